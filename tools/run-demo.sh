#!/usr/bin/env bash
# The main job: install, build, and run the demonstration on ./opossum-data.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
build/bin/opossum-demo "${1:-./opossum-data}"
