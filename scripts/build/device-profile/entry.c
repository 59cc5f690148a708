/*
 * The C shim (Sources/CTinyPlatform/platform.c) compiled against musl for the device profile,
 * with the program's entry point (scripts/build/device-profile.sh compiles this once per program,
 * -DTINYHUB_ENTRY=<program>_main: SwiftPM renames each executable's main to that).
 *
 * The shim captures argc/argv from .init_array, which glibc calls with (argc, argv, envp).
 * musl calls those functions without arguments, so here main() hands them over before the
 * Swift program starts (the .init_array call stores whatever it finds; main overwrites it
 * before anything reads it).
 */
#include "../../../Sources/CTinyPlatform/platform.c"

#ifndef TINYHUB_ENTRY
#error "define TINYHUB_ENTRY, e.g. -DTINYHUB_ENTRY=hub_minimal_main"
#endif

extern int TINYHUB_ENTRY(int, char **);

int main(int argc, char **argv) {
    capture_args(argc, argv, 0);
    return TINYHUB_ENTRY(argc, argv);
}
