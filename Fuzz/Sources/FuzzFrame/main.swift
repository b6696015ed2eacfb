import FuzzSupport

writeSeeds()
runFuzzer()
