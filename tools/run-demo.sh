#!/usr/bin/env bash
# The main job: install what is missing, build the demonstration (the library
# and opossum-demo, nothing else), and run it on ./opossum-data.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh opossum-demo
build/bin/opossum-demo "${1:-./opossum-data}"
