// `rusty node`: the network node (DESIGN section 9).
