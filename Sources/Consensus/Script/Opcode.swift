/// FerrisScript opcodes. Byte values follow Bitcoin's where the meaning is the same, so the
/// scripts read familiarly in hex; there are no loops and no opcodes beyond these.
public enum Opcode: UInt8, Sendable {
    case pushEmpty = 0x00
    // 0x01...0x4B push that many following bytes (no case: see `Script.parse`).
    case pushData1 = 0x4C
    case pushData2 = 0x4D
    case op1 = 0x51 // 0x51...0x60 push the numbers 1...16
    case op16 = 0x60
    case `if` = 0x63
    case notIf = 0x64
    case `else` = 0x67
    case endIf = 0x68
    case verify = 0x69
    case `return` = 0x6A
    case drop = 0x75
    case dup = 0x76
    case equal = 0x87
    case equalVerify = 0x88
    case blake3 = 0xA0
    case checkSig = 0xAC
    case checkSigVerify = 0xAD
    case checkMultiSig = 0xAE
    case checkMultiSigVerify = 0xAF
    case checkLockTimeVerify = 0xB1
    case checkSequenceVerify = 0xB2
}

/// One parsed instruction: an opcode or a data push.
public enum Instruction: Equatable, Sendable {
    case push([UInt8])
    case op(Opcode)
}
