#!/usr/bin/env bash
# Checks that the documentation stands alone. In every Markdown file of the
# repository (README.md, docs/, the fuzz corpora's notes):
#  - every relative link, [text](target), ![alt](target) or [ref]: target,
#    names a file or folder of this repository, and its "#anchor", if any,
#    a heading of the Markdown file it points to; a link that leaves the
#    repository (../ above its root, an absolute path) fails. Links with a
#    scheme (https:, mailto:) are not followed;
#  - every path to a Markdown file written as code (`docs/cli.md`), as the
#    docs often name each other, exists (from the repository's root or from
#    the file's folder).
# Fenced code blocks are skipped.
#
#   tools/check-doc-links.sh [REPO_ROOT]
#
# Exit 0 when all is well; 1 with one line per broken link
# (FILE:LINE: TARGET: why); 77 (a skip, for ctest) without python3.
set -euo pipefail

if ! command -v python3 >/dev/null; then
  echo "check-doc-links.sh: python3 is not installed (apt-get install python3)" >&2
  exit 77
fi

root=$(cd "${1:-$(dirname "$0")/..}" && pwd -P)
cd "$root"

exec python3 - "$root" <<'PY'
import os
import re
import subprocess
import sys

root = sys.argv[1]


def markdown_files():
    """The repository's Markdown files: git's list, else a walk that skips
    build folders and hidden ones."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard", "--",
                              "*.md"], capture_output=True, check=True).stdout.decode()
        listed = [f for f in out.split("\0") if f and os.path.isfile(f)]
        if listed:
            return sorted(listed)
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for folder, dirs, names in os.walk("."):
        dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
        found += [os.path.relpath(os.path.join(folder, n)) for n in names if n.endswith(".md")]
    return sorted(found)


files = markdown_files()

inline = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
reference = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
fence = re.compile(r"^\s{0,3}(```|~~~)")
code_span = re.compile(r"(`+)(?:(?!\1).)+?\1")
md_path = re.compile(r"^(?:[\w.-]+/)+[\w.-]+\.md$")


def slug(heading):
    """The anchor GitHub gives a heading."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    found, counts, in_fence = set(), {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if fence.match(line):
                in_fence = not in_fence
                continue
            m = None if in_fence else re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                s = slug(m.group(1))
                n = counts.get(s, 0)
                counts[s] = n + 1
                found.add(s if n == 0 else f"{s}-{n}")
    return found


def links(path):
    in_fence = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if fence.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            m = reference.match(line)
            if m:
                yield number, m.group(1), False
                continue
            for m in inline.finditer(code_span.sub("", line)):
                yield number, m.group(1), False
            for m in code_span.finditer(line):
                text = m.group(0).strip("`").strip()
                if md_path.match(text):
                    yield number, text, True


broken = []
for doc in files:
    for number, target, as_code in links(doc):
        where = f"{doc}:{number}: {target}"
        if as_code:
            beside = os.path.normpath(os.path.join(os.path.dirname(doc), target))
            if os.path.normpath(target).startswith("..") or not (
                    os.path.isfile(target) or os.path.isfile(beside)):
                broken.append(f"{where}: no such file in the repository")
            continue
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target):
            continue  # https:, mailto: ...: not a file of the repository
        file_part, _, anchor = target.partition("#")
        if file_part.startswith("/"):
            broken.append(f"{where}: an absolute path (link relative to the file)")
            continue
        resolved = os.path.normpath(os.path.join(os.path.dirname(doc), file_part)) \
            if file_part else doc
        if resolved == ".." or resolved.startswith("../"):
            broken.append(f"{where}: outside the repository")
            continue
        if not os.path.exists(resolved):
            broken.append(f"{where}: no such file")
            continue
        if anchor and resolved.endswith(".md") and os.path.isfile(resolved):
            if anchor.lower() not in anchors(resolved):
                broken.append(f"{where}: no heading #{anchor} in {resolved}")

for b in broken:
    print(b)
if broken:
    print(f"{len(broken)} broken link(s)", file=sys.stderr)
    sys.exit(1)
print(f"doc links: {len(files)} files checked, every link resolves")
PY
