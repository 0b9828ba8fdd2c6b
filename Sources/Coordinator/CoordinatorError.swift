/// Errors of the Coordinator and its clients, each with the HTTP status Contrast maps the gRPC code to.
public struct CoordinatorError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The category, mirroring the gRPC codes Contrast uses.
    public enum Kind: Sendable, Equatable {
        /// Malformed request (gRPC InvalidArgument → 400).
        case invalidArgument
        /// Not authorized (PermissionDenied → 403).
        case permissionDenied
        /// Stale previous transition, manifest conflict, recovery mode (FailedPrecondition → 412).
        case failedPrecondition
        /// Unknown path (404).
        case notFound
        /// Not ready yet / unreachable (Unavailable → 503).
        case unavailable
        /// Anything else (Internal → 500).
        case `internal`
    }

    /// The category.
    public var kind: Kind
    /// The message (as a client shows it).
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The HTTP status code for this error.
    public var httpStatus: Int {
        switch kind {
        case .invalidArgument: 400
        case .permissionDenied: 403
        case .failedPrecondition: 412
        case .notFound: 404
        case .unavailable: 503
        case .internal: 500
        }
    }

    /// The error for an HTTP status a server answered with.
    public init(status: Int, message: String) {
        let kind: Kind =
            switch status {
            case 400, 413: .invalidArgument
            case 403: .permissionDenied
            case 409, 412: .failedPrecondition
            case 404: .notFound
            case 502, 503, 504: .unavailable
            default: .internal
            }
        self.init(kind, message)
    }

    public var description: String { message }
}
