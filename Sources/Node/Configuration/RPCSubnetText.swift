// Syntax checks for RPC settings, so a typo is reported at start-up with its place.

import RPCServer

enum RPCSubnetText {
    static func isValid(_ text: String) -> Bool { RPCSubnet(text) != nil }

    static func isValidAuth(_ text: String) -> Bool { (try? RPCCredentials.parseRPCAuth(text)) != nil }

    static func isLoopback(_ host: String) -> Bool {
        guard let subnet = RPCSubnet(host) else { return false }
        return RPCSubnet.isLoopback(subnet.address)
    }
}
