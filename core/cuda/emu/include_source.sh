#!/bin/sh
# Writes a one-line C++ file that includes a CUDA source, so g++ compiles the .cu file for the
# kernel emulator while diagnostics still point at the real source. Usage: include_source.sh IN OUT
printf '#include "%s"\n' "$(realpath "$1")" > "$2"
