import sample from '../../samples/llama-3.1-8b.json';

/** The config panels open when no config is given or active: Llama-3.1-8B, bundled into the extension. */
export const BUNDLED_SAMPLE = {
  source: 'ridgeline-sample:llama-3.1-8b.json',
  text: JSON.stringify(sample, null, 2),
};
