// Peer addresses: the address manager (peers.dat) and the ban list (banlist).
