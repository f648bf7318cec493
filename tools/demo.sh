#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, load a
# month of real orders (tests/data, UCI Online Retail, CC BY 4.0), start
# xselld, print sample answers (frequently bought with, complements,
# similar, trending, personal picks, a customer's history), write an
# order and a few events, forget a customer, stop it.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DXSELL_WERROR=ON >/dev/null
cmake --build build -j"$jobs" >/dev/null

work=$(mktemp -d /tmp/xsell-demo.XXXXXX)
db="$work/db"
read_url="ipc://$work/read.sock"
admin_url="ipc://$work/admin.sock"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# Online Retail has lines for postage (DOT, POST) and manual
# adjustments (M), which are not products: left out at load, or they
# would be recommended with everything (README "Quality").
echo "== loading tests/data/online-retail-2011-02.csv (postage and fees left out)"
build/tools/xsell-load --db "$db" --exclude-items DOT,POST,M \
	tests/data/online-retail-2011-02.csv

echo "== starting xselld"
build/xselld --db "$db" --listen "$read_url" --admin "$admin_url" \
	--quiet &
pid=$!
for _ in $(seq 50); do
	build/tools/xsell --url "$read_url" stats >/dev/null 2>&1 && break
	sleep 0.1
done

xsell() { build/tools/xsell --url "$read_url" "$@"; }
echo
echo "== frequently bought with 22697 (GREEN REGENCY TEACUP AND SAUCER)"
xsell fbt 22697 -k 5
echo
echo "== ... with 85123A (WHITE HANGING HEART T-LIGHT HOLDER), by lift"
xsell fbt 85123A -k 5 --scorer lift --min-support 5 --explain
echo
echo "== a whole cart: 21731 (red toadstool night light) + 22379 (retrospot bag)"
xsell fbt 21731 22379 -k 5
echo
echo "== second-level complements of 22697: never bought with it directly,"
echo "   reached through an item that is (the via column)"
xsell complements 22697 -k 5 --explain
echo
echo "== similar to 22697 by behaviour (here: orders only; views and carts"
echo "   count too when a shop sends them)"
xsell similar 22697 -k 5 --explain
echo
echo "== trending as of the newest day in the store (half-life 7 days)"
xsell trending -k 5 --explain
echo
echo "== picks for customer 14606 (15 invoices this month) as of 2011-03-01,"
echo "   with the item of their history behind each one"
xsell picks 14606 -k 5 --explain --now 1298937600
echo
echo "== buy again for 14606: what they reorder that others rebuy too, weighed up as each comes due"
xsell picks 14606 --kind buy_again -k 5 --now 1301616000
echo
echo "== a write: one new order, sent to the admin endpoint"
build/tools/xsell --url "$admin_url" event order demo-1 22697 22698 \
	--user demo-customer
echo
echo "== demo-customer's history, then forgetting them (exactly)"
xsell history demo-customer
build/tools/xsell --url "$admin_url" forget demo-customer
xsell history demo-customer
echo
echo "== stats"
xsell stats
