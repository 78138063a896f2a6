import { describe, it, expect } from 'vitest';
import { renderCalls } from '../../cli/replay-text.ts';
import { Tracer, setTracer, kenter, kexit, knote } from '../../reference/trace.ts';

function call(fn: string, body: () => void = () => {}): void {
  kenter(fn);
  try {
    body();
  } finally {
    kexit();
  }
}

function record(f: () => void) {
  const t = new Tracer();
  setTracer(t);
  try {
    f();
  } finally {
    setTracer(null);
  }
  return t.events;
}

describe('renderCalls', () => {
  it('joins single-callee chains with arrows and indents siblings by depth', () => {
    const ev = record(() =>
      call('dma_alloc_attrs', () =>
        call('dma_direct_alloc', () =>
          call('dma_direct_alloc_from_pool', () =>
            call('dma_alloc_from_pool', () => call('gen_pool_alloc_algo_owner', () => call('gen_pool_first_fit_order_align'))),
          ),
        ),
      ),
    );
    expect(renderCalls(ev)).toEqual([
      'dma_alloc_attrs → dma_direct_alloc → dma_direct_alloc_from_pool → dma_alloc_from_pool → gen_pool_alloc_algo_owner → gen_pool_first_fit_order_align',
    ]);
  });

  it('keeps notes under their function, stops a chain at a note, counts repeats', () => {
    const ev = record(() => {
      call('arch_sync_dma_for_device', () =>
        call('ALT_CMO_OP', () => {
          knote('th.dcache.cva');
          knote('th.dcache.cva');
          knote('th.sync.s');
        }),
      );
      call('dma_direct_alloc', () => {
        knote('remap');
        call('dma_pgprot', () => call('pgprot_dmacoherent'));
        call('arch_dma_prep_coherent');
      });
    });
    expect(renderCalls(ev)).toEqual([
      'arch_sync_dma_for_device → ALT_CMO_OP',
      '  · th.dcache.cva  ×2',
      '  · th.sync.s',
      'dma_direct_alloc',
      '  · remap',
      '  dma_pgprot → pgprot_dmacoherent',
      '  arch_dma_prep_coherent',
    ]);
  });

  it('nothing traced: no lines', () => {
    expect(renderCalls([])).toEqual([]);
  });
});
