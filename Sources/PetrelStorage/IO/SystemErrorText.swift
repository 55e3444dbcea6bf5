#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Human text for an errno value.
enum SystemErrorText {
    static func describe(_ errno: Int32) -> String { String(cString: strerror(errno)) }
}
