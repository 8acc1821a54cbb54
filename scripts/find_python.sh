#!/usr/bin/env bash
# Print the path of a CPython 3.10 (Rasa 3.6 needs >=3.8,<3.11): PATH, then pyenv, then uv's.
set -u
for c in python3.10 "$(command -v pyenv >/dev/null 2>&1 && echo "$(pyenv root)/versions/3.10"*/bin/python3.10)" /root/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
  [ -n "$c" ] || continue
  for p in $c; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      command -v "$p"; exit 0
    fi
  done
done
if command -v uv >/dev/null 2>&1; then
  p=$(uv python find 3.10 2>/dev/null) && { echo "$p"; exit 0; }
fi
echo "No Python 3.10 found. Install one (pyenv install 3.10, apt, or uv python install 3.10)." >&2
exit 1
