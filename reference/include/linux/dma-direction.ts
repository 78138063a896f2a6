// include/linux/dma-direction.h: the data direction of a streaming mapping.
// Same values in 5.10 and 6.6. `number` rather than an enum so a model can hand
// in an out-of-range value and see what the kernel does with it.

export const DMA_BIDIRECTIONAL = 0;
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
export const DMA_NONE = 3;

export type DmaDataDirection = typeof DMA_BIDIRECTIONAL | typeof DMA_TO_DEVICE | typeof DMA_FROM_DEVICE | typeof DMA_NONE;

/** include/linux/dma-direction.h valid_dma_direction (5.10, 6.6). */
export function valid_dma_direction(dir: number): boolean {
  return dir === DMA_BIDIRECTIONAL || dir === DMA_TO_DEVICE || dir === DMA_FROM_DEVICE;
}

const NAMES = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'] as const;

/** The kernel's dir2name[] text (kernel/dma/debug.c); anything else is shown as its number. */
export function dmaDirName(dir: number): string {
  return Number.isInteger(dir) && dir >= 0 && dir < NAMES.length ? NAMES[dir] : `DMA_DIR(${dir})`;
}
