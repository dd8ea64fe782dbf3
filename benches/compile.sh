#!/usr/bin/env bash
# What the 100-flag struct costs to build with flags and with each alternative (issue 5).
#
# For each alternative (flags; serde's derive + envy; envconfig; confique; figment) this generates a
# tiny library crate in a temporary directory: the same 100 flags as the load benchmark, from
# benches/src/fields.rs and the alternative's module in benches/src/loaders/, with the dependency
# lines of the root Cargo.toml ([workspace.dependencies]) and the versions of its Cargo.lock. The
# flags crate depends on this workspace's flags-core by path, with its default features. It measures:
#
#   clean    a clean debug build of the crate and every dependency, in a target directory of its own
#   rebuild  a debug rebuild after changing the default of the u32 flags (0 <-> 1) in fields.rs: the
#            derive's expansion and the crate's codegen, as after editing the struct (median of N).
#            The envy version shares one default function between the ten fields; flags has one per
#            field, so this edit changes ten of its functions and one of envy's.
#   rename   a debug rebuild after renaming one flag, which regenerates every derive's whole output
#            (median of N)
#   crates   the crates a build compiles besides the tiny one: `cargo tree -e normal,build`
#   syn      the features each syn in the tree is built with; `full` is the expensive one
#
# and prints one Markdown table, with each time and count also as a ratio to flags'.
#
# Usage: benches/compile.sh [REBUILDS]    REBUILDS per alternative, median reported; default 5
#        KEEP=1 benches/compile.sh        keeps the temporary directory and says where it is
# Needs cargo, and crates.io the first time (crates are fetched before any timing starts). About
# five minutes on 2 cores; the times move with whatever else the machine is doing.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rebuilds="${1:-5}"
work="$(mktemp -d "${TMPDIR:-/tmp}/flags-compile.XXXXXX")"
if [[ "${KEEP:-}" == 1 ]]; then
    echo "keeping $work" >&2
else
    trap 'rm -rf "$work"' EXIT
fi

# name, the module in benches/src/loaders/, and the workspace dependencies it needs.
alternatives=(
    "flags|flags|flags-core"
    "serde derive + envy|envy|serde serde_derive envy"
    "envconfig|envconfig|envconfig"
    "confique|confique|serde serde_derive confique"
    "figment|figment|serde serde_derive figment"
)

now() { date +%s.%N; }
elapsed() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.2f", end - start }'; }
ratio() { awk -v value="$1" -v base="$2" 'BEGIN { printf "%.2f", value / base }'; }
median() { tr ' ' '\n' | sort -g | awk '{ values[NR] = $1 } END { print values[int((NR + 1) / 2)] }'; }

# The dependency line for one workspace dependency, as the root Cargo.toml writes it.
dependency() {
    if [[ "$1" == flags-core ]]; then
        echo "flags-core = { path = \"$root/flags-core\" }"
    else
        grep -E "^$1 = " "$root/Cargo.toml" || { echo "no $1 in $root/Cargo.toml" >&2; exit 1; }
    fi
}

generate() { # directory, module, dependencies
    local name
    mkdir -p "$1/src"
    {
        printf '[package]\nname = "tiny-%s"\nversion = "0.1.0"\nedition = "2024"\npublish = false\n\n' "$2"
        printf '# Not a member of any workspace around it.\n[workspace]\n\n[dependencies]\n'
        for name in $3; do dependency "$name"; done
    } >"$1/Cargo.toml"
    printf '#[macro_use]\nmod fields;\npub mod settings;\n' >"$1/src/lib.rs"
    cp "$root/benches/src/fields.rs" "$1/src/fields.rs"
    cp "$root/benches/src/loaders/$2.rs" "$1/src/settings.rs"
    cp "$root/Cargo.lock" "$1/Cargo.lock"
}

# Changes the u32 flags' default between 0 and 1, as an edit of the struct would.
edit_struct() {
    local fields="$1/src/fields.rs"
    if grep -q 'counts { default: 0, text: "0" }' "$fields"; then
        sed -i 's/counts { default: 0, text: "0" }/counts { default: 1, text: "1" }/' "$fields"
    else
        sed -i 's/counts { default: 1, text: "1" }/counts { default: 0, text: "0" }/' "$fields"
    fi
}

# Renames the first bool flag and back, as adding or renaming a flag would.
rename_flag() {
    local fields="$1/src/fields.rs"
    if grep -q 'flag_000 = "APP_FLAG_000",' "$fields"; then
        sed -i 's/flag_000 = "APP_FLAG_000",/flag_000_renamed = "APP_FLAG_000_RENAMED",/' "$fields"
    else
        sed -i 's/flag_000_renamed = "APP_FLAG_000_RENAMED",/flag_000 = "APP_FLAG_000",/' "$fields"
    fi
}

rows=()
for alternative in "${alternatives[@]}"; do
    IFS='|' read -r name module dependencies <<<"$alternative"
    dir="$work/$module"
    generate "$dir" "$module" "$dependencies"
    export CARGO_TARGET_DIR="$dir/target"
    echo "== $name" >&2
    (cd "$dir" && cargo fetch --quiet)

    start="$(now)"
    (cd "$dir" && cargo build --quiet)
    clean="$(elapsed "$start")"

    times=()
    for _ in $(seq "$rebuilds"); do
        edit_struct "$dir"
        start="$(now)"
        (cd "$dir" && cargo build --quiet)
        times+=("$(elapsed "$start")")
    done
    rebuild="$(echo "${times[*]}" | median)"

    renames=()
    for _ in $(seq "$rebuilds"); do
        rename_flag "$dir"
        start="$(now)"
        (cd "$dir" && cargo build --quiet)
        renames+=("$(elapsed "$start")")
    done
    rename="$(echo "${renames[*]}" | median)"

    tree="$(cd "$dir" && cargo tree --quiet -e normal,build --prefix none -f '{p}')"
    crates="$(echo "$tree" | awk '{ print $1, $2 }' | sort -u | grep -cv "^tiny-$module ")"
    syn="$(cd "$dir" && cargo tree --quiet -e normal,build --prefix none -f '{p} {f}' |
        awk '$1 == "syn" && $NF != "(*)" { print $2 ": " $NF }' | sort -u | paste -sd ';' | sed 's/;/; /g')"
    full=no
    if grep -qw full <<<"$syn"; then full=yes; fi
    echo "   clean ${clean}s, rebuilds ${times[*]} s, renames ${renames[*]} s, $crates crates, syn $syn" >&2
    rows+=("$name|$clean|$rebuild|$rename|$crates|$full|$syn")
done

IFS='|' read -r _ base_clean base_rebuild base_rename base_crates _ _ <<<"${rows[0]}"
echo
echo "| alternative | clean build (s) | ratio | rebuild, defaults edited (s) | ratio | rebuild, flag renamed (s) | ratio | crates | ratio | syn \`full\` | syn versions: features |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
for row in "${rows[@]}"; do
    IFS='|' read -r name clean rebuild rename crates full syn <<<"$row"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" \
        "$clean" "$(ratio "$clean" "$base_clean")" \
        "$rebuild" "$(ratio "$rebuild" "$base_rebuild")" \
        "$rename" "$(ratio "$rename" "$base_rename")" \
        "$crates" "$(ratio "$crates" "$base_crates")" "$full" "$syn"
done
echo
echo "rustc: $(rustc --version); nproc: $(nproc); rebuilds per alternative: $rebuilds (median)"
