/**
 * Hugging Face config.json contents of the models the memory tests size (fields as published on the
 * Hugging Face Hub). Qwen2 is the published Qwen2-7B config with its sliding window switched on
 * (`use_sliding_window: true`, `max_window_layers: 21`) to exercise the per-layer window.
 */
import { join } from 'node:path';
import { parseConfig, loadConfigFile } from '../../engine/model/index';
import type { ModelSpec } from '../../engine/model/types';

export const sample = (name: string): ModelSpec => loadConfigFile(join(__dirname, '../../samples', `${name}.json`));

export const configs = {
  'llama-3-8b': {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32,
    num_key_value_heads: 8, num_hidden_layers: 32, vocab_size: 128256, max_position_embeddings: 8192, rope_theta: 500000,
    rms_norm_eps: 1e-5, hidden_act: 'silu', tie_word_embeddings: false, torch_dtype: 'bfloat16',
  },
  'mistral-7b-v0.1': {
    model_type: 'mistral', architectures: ['MistralForCausalLM'], hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32,
    num_key_value_heads: 8, num_hidden_layers: 32, vocab_size: 32000, max_position_embeddings: 32768, sliding_window: 4096,
    rope_theta: 10000, rms_norm_eps: 1e-5, hidden_act: 'silu', tie_word_embeddings: false, torch_dtype: 'bfloat16',
  },
  'gemma-2-9b': {
    model_type: 'gemma2', architectures: ['Gemma2ForCausalLM'], hidden_size: 3584, intermediate_size: 14336, num_attention_heads: 16,
    num_key_value_heads: 8, head_dim: 256, num_hidden_layers: 42, vocab_size: 256000, max_position_embeddings: 8192,
    sliding_window: 4096, query_pre_attn_scalar: 256, attn_logit_softcapping: 50.0, final_logit_softcapping: 30.0,
    hidden_activation: 'gelu_pytorch_tanh', rope_theta: 10000, rms_norm_eps: 1e-6, torch_dtype: 'float32',
  },
  'qwen2-7b-windowed': {
    model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], hidden_size: 3584, intermediate_size: 18944, num_attention_heads: 28,
    num_key_value_heads: 4, num_hidden_layers: 28, vocab_size: 152064, max_position_embeddings: 32768, sliding_window: 4096,
    use_sliding_window: true, max_window_layers: 21, rope_theta: 1000000, rms_norm_eps: 1e-6, hidden_act: 'silu',
    tie_word_embeddings: false, torch_dtype: 'bfloat16',
  },
  'deepseek-v2': {
    model_type: 'deepseek_v2', architectures: ['DeepseekV2ForCausalLM'], hidden_size: 5120, intermediate_size: 12288,
    moe_intermediate_size: 1536, num_attention_heads: 128, num_key_value_heads: 128, num_hidden_layers: 60, vocab_size: 102400,
    max_position_embeddings: 163840, q_lora_rank: 1536, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64,
    v_head_dim: 128, n_routed_experts: 160, n_shared_experts: 2, num_experts_per_tok: 6, first_k_dense_replace: 1,
    moe_layer_freq: 1, hidden_act: 'silu', tie_word_embeddings: false, torch_dtype: 'bfloat16',
  },
  'deepseek-v3': {
    model_type: 'deepseek_v3', architectures: ['DeepseekV3ForCausalLM'], hidden_size: 7168, intermediate_size: 18432,
    moe_intermediate_size: 2048, num_attention_heads: 128, num_key_value_heads: 128, num_hidden_layers: 61, vocab_size: 129280,
    max_position_embeddings: 163840, q_lora_rank: 1536, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64,
    v_head_dim: 128, n_routed_experts: 256, n_shared_experts: 1, num_experts_per_tok: 8, first_k_dense_replace: 3,
    moe_layer_freq: 1, num_nextn_predict_layers: 1, hidden_act: 'silu', tie_word_embeddings: false, torch_dtype: 'bfloat16',
  },
} as const;

export const model = (name: keyof typeof configs): ModelSpec => parseConfig(configs[name], `${name}/config.json`);
