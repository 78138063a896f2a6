#!/usr/bin/env bash
# Mutation testing of reference/ in chunks (one StrykerJS run each, results
# kept per chunk in reports/mutation/chunks/), so a long run can be resumed
# chunk by chunk and read before it ends:
#   bash bench/mutation-chunks.sh [chunk ...]      (default: all chunks)
#   node bench/mutation-check.mjs reports/mutation/chunks/*.json
#   node bench/mutation-remap.mjs --old reports/mutation/chunks/<chunk>.json.prev reports/mutation/chunks/<chunk>.json --write
# SAMPLE=<fraction> [SAMPLE_SEED=<n>] runs a seeded sample of each chunk's lines
# instead (bench/mutation-sample.mjs; plain file lists only), reported as
# <chunk>.sample.json, estimated with `node bench/mutation-sample.mjs estimate`.
set -u
cd "$(dirname "$0")/.."
declare -A CHUNKS=(
  [dma-core]='reference/kernel/dma/direct.ts,reference/kernel/dma/direct.h.ts,reference/kernel/dma/mapping.ts,reference/kernel/dma/pool.ts,reference/kernel/dma/remap.ts,reference/arch/riscv/dma-noncoherent.ts,reference/include/linux/dma-mapping.ts,reference/include/linux/dma-direct.ts'
  [lib-cmo]='reference/lib/bitmap.ts,reference/lib/genalloc.ts,reference/lib/cmdline.ts,reference/arch/riscv/cmo.ts'
  [swiotlb]='reference/kernel/dma/swiotlb.ts,reference/kernel/dma/swiotlb-map.ts'
  [coherent-cma]='reference/kernel/dma/coherent.ts,reference/kernel/dma/contiguous.ts,reference/mm/cma.ts'
  [mm]='reference/mm/page_alloc.ts,reference/mm/memblock.ts,reference/mm/mmzone.ts,reference/mm/memory.ts,reference/mm/slab.ts,reference/include/linux/gfp.ts'
  [pgtable-cache]='reference/arch/riscv/pgtable.ts,reference/mm/vmalloc.ts,reference/hw/c920-cache.ts,reference/hw/cpu.ts,reference/hw/device.ts'
  [debug-of]='reference/kernel/dma/debug.ts,reference/drivers/**/*.ts,reference/system.ts,reference/boot-image.ts,reference/types.ts'
  [config]='reference/config/kconfig.ts,reference/config/fdt.ts,reference/config/dtb.ts,reference/config/user-profile.ts,reference/config/profile.ts'
  [misc]='reference/kernel/dma/max-mapping-size.ts,reference/kernel/resource.ts,reference/kernel/locking/mutex.ts,reference/kernel/sched/core.ts,reference/include/linux/device.ts,reference/include/linux/dma-direction.ts,reference/include/linux/dma-mapping-attrs.ts,reference/include/linux/kernel.ts,reference/include/linux/preempt.ts,reference/include/linux/sched.ts,reference/trace.ts'
)
ORDER=(dma-core lib-cmo swiotlb coherent-cma mm pgtable-cache debug-of config misc)
[ $# -gt 0 ] && ORDER=("$@")
mkdir -p reports/mutation/chunks
for c in "${ORDER[@]}"; do
  [ -n "${CHUNKS[$c]:-}" ] || { echo "unknown chunk $c" >&2; exit 2; }
  echo "== chunk $c ($(date -u +%H:%M:%S))"
  files="${CHUNKS[$c]}"
  name="$c"
  if [ -n "${SAMPLE:-}" ]; then
    case "$files" in *'*'*) echo "chunk $c has globs: no sampled run" >&2; exit 2 ;; esac
    files=$(node bench/mutation-sample.mjs ranges "$SAMPLE" "${SAMPLE_SEED:-1}" "$files") || exit 2
    name="$c.sample"
  fi
  # The previous report stays as <name>.json.prev (outside the *.json globs): bench/mutation-remap.mjs --old carries the
  # equivalent and hand-kill ids over to the new numbering.
  [ -f "reports/mutation/chunks/$name.json" ] && cp "reports/mutation/chunks/$name.json" "reports/mutation/chunks/$name.json.prev"
  MUTATE="$files" npx stryker run --incrementalFile "reports/mutation/chunks/$name.incremental.json" || exit 1
  cp reports/mutation/mutation.json "reports/mutation/chunks/$name.json"
  node bench/mutation-check.mjs "reports/mutation/chunks/$name.json" | tail -3
  [ -n "${SAMPLE:-}" ] && node bench/mutation-sample.mjs estimate "reports/mutation/chunks/$name.json"
done
