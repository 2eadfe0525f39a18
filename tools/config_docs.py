#!/usr/bin/env python3
"""Keep docs/config.md's key tables equal to the config schema.

The tables between `<!-- schema:begin TABLE -->` and `<!-- schema:end TABLE -->` are what
`marginfall schema --format markdown` prints for TABLE (src/config/config_schema.c); the
prose around them is written by hand.

    tools/config_docs.py [--binary build/release/marginfall]           rewrite the tables
    tools/config_docs.py --check [--binary build/release/marginfall]   exit 1 if they differ
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
DOCS = os.path.join(SOURCE, "docs", "config.md")
BLOCK = re.compile(r"<!-- schema:begin (\S+) -->\n(.*?)<!-- schema:end \1 -->\n", re.S)


def blocks(text):
    """{table: its lines between the markers} in order of appearance."""
    return {m.group(1): m.group(2) for m in BLOCK.finditer(text)}


def schema_blocks(binary):
    out = subprocess.run([binary, "schema", "--format", "markdown"], check=True,
                         capture_output=True, text=True).stdout
    return blocks(out)


def rewrite(text, tables):
    def replace(m):
        name = m.group(1)
        if name not in tables:
            sys.exit(f"docs/config.md has a block for '{name}', which the schema does not have")
        return f"<!-- schema:begin {name} -->\n{tables[name]}<!-- schema:end {name} -->\n"
    return BLOCK.sub(replace, text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(SOURCE, "build", "release", "marginfall"))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    tables = schema_blocks(args.binary)
    with open(DOCS) as f:
        text = f.read()
    missing = sorted(set(tables) - set(blocks(text)))
    if missing:
        sys.exit(f"docs/config.md lacks the schema blocks {missing}")
    new = rewrite(text, tables)
    if args.check:
        if new != text:
            print("docs/config.md's key tables differ from the schema: run tools/config_docs.py")
            sys.exit(1)
        return
    with open(DOCS, "w") as f:
        f.write(new)


if __name__ == "__main__":
    main()
