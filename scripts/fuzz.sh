#!/usr/bin/env bash
# Runs every Fuzz* function in the module for FUZZTIME (default 30s) each (make fuzz).
# go test -fuzz takes one function in one package at a time, hence the loop.
# Failing inputs are kept by go in <package>/testdata/fuzz/<FuzzName>/ and replayed by go test.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
FUZZTIME=${FUZZTIME:-30s}

targets=()
while IFS= read -r file; do
	dir=$(dirname "$file")
	while IFS= read -r name; do
		targets+=("$dir $name")
	done < <(sed -n -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*\*testing\.F\).*/\1/p' "$file")
done < <(find . -name '*_test.go' -not -path './.git/*' -not -path './.local/*' -not -path '*/testdata/*' | sort)

if [ "${#targets[@]}" -eq 0 ]; then
	echo '==> no Fuzz* functions found'
	exit 0
fi

failed=()
for t in "${targets[@]}"; do
	dir=${t% *}
	name=${t#* }
	echo "==> fuzz $dir $name for $FUZZTIME"
	if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "$dir"; then
		failed+=("$dir $name")
	fi
done

if [ "${#failed[@]}" -gt 0 ]; then
	echo "==> fuzz: ${#failed[@]} of ${#targets[@]} failed:"
	printf '    %s\n' "${failed[@]}"
	exit 1
fi
echo "==> fuzz: all ${#targets[@]} passed"
