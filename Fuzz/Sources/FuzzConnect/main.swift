import FuzzSupport

prepare()
runFuzzer()
