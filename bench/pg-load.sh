#!/usr/bin/env bash
# The PostgreSQL baseline of a bulk load: the same Online Retail export
# COPYed into a table, then the same pair counts computed with a
# self-join GROUP BY into a table, with the index a top-k query needs.
# The same rules as xsell-load: distinct items of an order, lines with
# quantity <= 0 left out, at most 100 items of an order (a sample by a
# hash of order and item id: md5 here, so the few orders above 100 keep
# other items, but as many pairs).
#
# PostgreSQL gets every advantage: a private cluster on a unix socket,
# fsync, synchronous_commit and full_page_writes off, unlogged tables,
# 256 MB work_mem. Prints one JSON object: seconds (COPY to index,
# wall), copy_s, pairs_s, pairs (ordered pairs stored).
#
#   bench/pg-load.sh FILE.csv     (needs Debian's postgresql package)
set -euo pipefail
csv=$(realpath "$1")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
	echo "pg-load: PostgreSQL is not installed" >&2
	exit 77
fi
work=$(mktemp -d /tmp/xsell-pg.XXXXXX)
chmod 755 "$work"
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
[ "$(id -u)" = 0 ] && chown postgres "$work"
cleanup() {
	as_pg "$bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 ||
		true
	rm -rf "$work"
}
trap cleanup EXIT

as_pg "$bin/initdb" -D "$work/data" -A trust -U postgres >/dev/null
as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/log" -w -o \
	"-c listen_addresses='' -k $work -c fsync=off \
	-c synchronous_commit=off -c full_page_writes=off \
	-c shared_buffers=256MB -c work_mem=256MB \
	-c maintenance_work_mem=256MB" start >/dev/null
psql() { as_pg "$bin/psql" -h "$work" -U postgres -X -q -v ON_ERROR_STOP=1 \
	"$@"; }
now() { date +%s.%N; }

t0=$(now)
psql <<SQL
CREATE UNLOGGED TABLE lines (invoice text, stock text, descr text,
    qty int, ts text, price numeric, customer text, country text);
\copy lines FROM '$csv' WITH (FORMAT csv, HEADER true)
SQL
t1=$(now)
psql <<'SQL'
CREATE UNLOGGED TABLE basket AS
    SELECT invoice, stock FROM (
        SELECT invoice, stock, row_number() OVER (PARTITION BY invoice
            ORDER BY md5(invoice || ' ' || stock)) AS rn
        FROM (SELECT DISTINCT invoice, stock FROM lines WHERE qty > 0) d
    ) r WHERE rn <= 100;
CREATE UNLOGGED TABLE pairs AS
    SELECT x.stock AS a, y.stock AS b, count(*) AS n
    FROM basket x JOIN basket y
        ON x.invoice = y.invoice AND x.stock <> y.stock
    GROUP BY 1, 2;
CREATE INDEX pairs_a_n ON pairs (a, n DESC);
SQL
t2=$(now)
pairs=$(psql -At -c 'SELECT count(*) FROM pairs')
awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v n="$pairs" 'BEGIN {
	printf "{\"seconds\":%.3f,\"copy_s\":%.3f,\"pairs_s\":%.3f,\"pairs\":%d}\n",
	    t2 - t0, t1 - t0, t2 - t1, n }'
