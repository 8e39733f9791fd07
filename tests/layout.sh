#!/usr/bin/env bash
# layout.sh -- the layout's one rule: sim/ is the engine and includes
# nothing from models/, bench/ or the command (cli/); models/ include
# nothing from bench/ or cli/. usage: layout.sh SOURCE_DIR
set -uo pipefail
cd "$1" || exit 1
bad=$(grep -nE '#include *"(models|bench|cli)/' sim/*.c sim/*.h)
bad+=$(grep -nE '#include *"(bench|cli)/' models/*.c models/*.h)
if [ -n "$bad" ]; then
  printf 'FAIL: includes against the layout (docs/design.md):\n%s\n' "$bad" >&2
  exit 1
fi
echo "layout: ok"
