# lit configuration for tevo's IR tests (.tir files with RUN/CHECK lines).
# Run through CTest (`ctest -R lit`), or by hand:
#   python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv --param tevo_bin_dir=build/tools tests/lit
import os

import lit.formats

config.name = "tevo"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".tir"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
# Temporary files (%t) go to the build tree, never into the sources.
config.test_exec_root = lit_config.params.get("exec_root", "/tmp/tevo-lit")

bin_dir = lit_config.params.get("tevo_bin_dir")
llvm_bin = lit_config.params.get("llvm_bin_dir", "/usr/lib/llvm-19/bin")
if not bin_dir:
    lit_config.fatal("pass --param tevo_bin_dir=<build>/tools")
config.environment["PATH"] = os.pathsep.join(
    [os.path.abspath(bin_dir), llvm_bin, config.environment.get("PATH", "")])
config.substitutions.append(("%tevo", os.path.join(os.path.abspath(bin_dir), "tevo")))
