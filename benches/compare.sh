#!/usr/bin/env bash
# Compares cilium-ipt with what operators would otherwise use, in one run, as ratios:
#   render: cilium-ipt render  vs  a Jinja2 template (benches/jinja)  vs  ferm --remote
#           (benches/reference-node.ferm)  vs  the floor, cat of the same bytes;
#   drift:  cilium-ipt diff on a 100k-rule kube-proxy dump  vs  cat of that dump (the floor).
# Needs hyperfine, python3 with jinja2, ferm (apt-get install hyperfine ferm; pip install jinja2).
# Not part of CI: timings belong in a report, not in a pass/fail test.
#   benches/compare.sh            # writes benches/results.md
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/cilium-ipt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every peer must produce the same rule set before its time means anything.
grep -v '^#' <("$bin" render) > "$work/ours.v4"
python3 benches/jinja/render.py > "$work/jinja.v4"
cmp "$work/ours.v4" "$work/jinja.v4"
cp tests/fixtures/seed-node.v4 "$work/seed.v4"

# A kube-proxy node with ~100k foreign rules: the intact fixture with its KUBE-SEP rules repeated.
python3 - "$work/big.v4" <<'PY'
import sys
lines = open("tests/fixtures/live/nft/intact.v4").read().splitlines()
seps = [l for l in lines if l.startswith("-A KUBE-SEP")]
commit = max(i for i, l in enumerate(lines) if l == "COMMIT")
extra = (seps * (100000 // len(seps) + 1))[:100000]
open(sys.argv[1], "w").write("\n".join(lines[:commit] + extra + lines[commit:]) + "\n")
PY
"$bin" diff --live "$work/big.v4" > /dev/null

hyperfine --warmup 5 --runs 50 -N --export-markdown "$work/render.md" \
    -n "cilium-ipt render" "$bin render" \
    -n "jinja2 template" "python3 benches/jinja/render.py" \
    -n "ferm --remote" "ferm --remote benches/reference-node.ferm" \
    -n "cat (floor)" "cat $work/seed.v4"
hyperfine --warmup 3 --runs 20 -N --export-markdown "$work/diff.md" \
    -n "cilium-ipt diff (100k rules)" "$bin diff --live $work/big.v4" \
    -n "cat (floor)" "cat $work/big.v4"
{
    echo "# cilium-ipt benchmarks ($(date -u +%F), $(nproc) cores)"
    echo
    echo "Rendering the reference node (same rules from every peer; ferm's output does not load,"
    echo "see benches/README.md):"
    echo
    cat "$work/render.md"
    echo
    echo "Drift check of a kube-proxy node with ~104k iptables-save lines:"
    echo
    cat "$work/diff.md"
} > benches/results.md
cat benches/results.md
