// bitcoind's error codes (src/rpc/protocol.h), so scripts written for bitcoin-cli keep working.

/// An error answer: a code from the table below and a message for people.
public struct RPCError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String

    public init(_ code: Int, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "error code: \(code)\nerror message:\n\(message)" }
    public var json: JSON { ["code": .int(code), "message": .string(message)] }

    // JSON-RPC 2.0's standard codes.
    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603

    // bitcoind's application codes.
    public static let miscError = -1
    public static let typeError = -3
    public static let walletError = -4
    public static let invalidAddressOrKey = -5
    public static let walletInsufficientFunds = -6
    public static let outOfMemory = -7
    public static let invalidParameter = -8
    public static let clientNotConnected = -9
    public static let clientInInitialDownload = -10
    public static let walletUnlockNeeded = -13
    public static let walletPassphraseIncorrect = -14
    public static let walletWrongEncState = -15
    public static let walletNotFound = -18
    public static let databaseError = -20
    public static let deserializationError = -22
    public static let clientNodeAlreadyAdded = -23
    public static let clientNodeNotAdded = -24
    public static let verifyError = -25
    public static let verifyRejected = -26
    public static let verifyAlreadyInChain = -27
    public static let inWarmup = -28
    public static let clientNodeNotConnected = -29
    public static let clientInvalidIPOrSubnet = -30
    public static let clientP2PDisabled = -31

    public static func parseError(_ detail: String) -> RPCError { RPCError(parseErrorCode, "Parse error: \(detail)") }
    public static func invalidRequest(_ detail: String) -> RPCError { RPCError(invalidRequestCode, "Invalid Request: \(detail)") }
    public static func methodNotFound(_ name: String) -> RPCError { RPCError(methodNotFoundCode, "Method not found: \(name)") }
    public static func invalidParams(_ detail: String) -> RPCError { RPCError(invalidParamsCode, detail) }
    public static func invalidParameter(_ detail: String) -> RPCError { RPCError(invalidParameter, detail) }
    public static func notFound(_ detail: String) -> RPCError { RPCError(invalidAddressOrKey, detail) }
}
