# Swift/C flags of every Embedded device build (sourced by the scripts that build one), so all
# of them compile the same objects into .build-embedded-*: SwiftPM does not recompile a module
# when only -Xfrontend flags change, so mixing flag sets in one scratch folder mixes objects.
# -Osize; one section per function so the linker's --gc-sections drops unreachable code.
# Embedded Swift itself is switched on by TINYHUB_EMBEDDED=1 in swift build's environment (read by
# Package.swift); each script sets it on its own build line only, so no other Swift command of the
# script (swift test, a default build) turns Embedded by accident.
EMBEDDED_FLAGS=(-Xswiftc -Osize -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections -Xcc -fdata-sections)
