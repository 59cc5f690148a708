import Testing
import TinyHTTP

/// Expected values computed independently: `date -u -d '<date>' +%s` (GNU coreutils).
@Suite struct HTTPDateTests {
    func parse(_ text: String) -> Int64? {
        Array(text.utf8).withUnsafeBytes { HTTPDate.unixSeconds(parsing: $0) }
    }

    @Test func imfFixdates() {
        #expect(parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777) // RFC 9110's example
        #expect(parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(parse("Tue, 29 Feb 2000 23:59:59 GMT") == 951_868_799)
        #expect(parse("Wed, 02 Dec 2026 01:07:17 GMT") == 1_796_173_637)
        #expect(parse("Fri, 31 Dec 9999 23:59:59 GMT") == 253_402_300_799)
    }

    @Test func everythingElseIsRefused() {
        for text in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 UTC",
                     "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nox 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
                     "Sun, 29 Feb 1900 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 19x4 08:49:37 GMT",
                     "", "Sun, 06 Nov 1994 08:49:37 GMT "] {
            #expect(parse(text) == nil, "\(text)")
        }
    }
}
