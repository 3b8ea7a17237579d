#!/usr/bin/env bash
# Demo training data a fresh machine can build (only ffmpeg, which scripts/setup-debian.sh installs): short clips of
# the repository's 64×64 test photo (test/fixtures/golden/pipeline-tiny/input.png) under camera moves with known
# velocity — pans left/right/up/down at 1–4 px per frame, zoom in and out, and static — plus the photo itself as an
# image folder for the image stage. Generated, never committed.
# Usage: bash scripts/make-demo-clips.sh OUT_DIR   (writes OUT_DIR/videos/*.mp4 and OUT_DIR/images/*.png)
set -euo pipefail
out="${1:?usage: make-demo-clips.sh OUT_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
photo="$root/test/fixtures/golden/pipeline-tiny/input.png"
mkdir -p "$out/videos" "$out/images"
fps=8
frames=16
clip() { # name filter
  ffmpeg -v error -y -loop 1 -framerate "$fps" -i "$photo" -vf "$2,format=yuv420p" -frames:v "$frames" \
    -c:v libx264 -preset veryfast -crf 12 "$out/videos/$1.mp4"
}
# The photo tiled 3×3 (192×192) so that a 64×64 window can move across it.
tile="scale=64:64,tile=1x1,split=3[a][b][c];[a][b][c]hstack=3,split=3[r1][r2][r3];[r1][r2][r3]vstack=3"
for v in 1 2 4; do
  clip "pan-right-$v" "$tile,crop=64:64:'64+n*$v':64"
  clip "pan-left-$v" "$tile,crop=64:64:'64-n*$v':64"
  clip "pan-down-$v" "$tile,crop=64:64:64:'64+n*$v'"
  clip "pan-up-$v" "$tile,crop=64:64:64:'64-n*$v'"
done
clip "zoom-in" "scale=256:256,zoompan=z='1+0.03*on':d=1:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':s=64x64:fps=$fps"
clip "zoom-out" "scale=256:256,zoompan=z='1.5-0.03*on':d=1:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':s=64x64:fps=$fps"
clip "static" "scale=64:64"
cp "$photo" "$out/images/photo.png"
ffmpeg -v error -y -i "$photo" -vf hflip "$out/images/photo-mirrored.png"
echo "make-demo-clips: $(ls "$out/videos" | wc -l) clips in $out/videos, $(ls "$out/images" | wc -l) images in $out/images"
