// hooklab — command-line access to the hooked GPT-2 core.
//
//   hooklab tokenize [--no-bos] [--model DIR] --text TEXT
//   hooklab run      --model DIR [--no-processing] [--no-bos] [--top-k K] --prompt TEXT
//   hooklab generate --model DIR --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P]
//                    [--freq-penalty F] [--seed S] [--stop-at-eos] [--steer HOOK:LAYER:COEF --steer-from A
//                    --steer-to B [--steer-by activations|unembed] [--steer-positions prompt|all|new]] [--ablate-head
//                    L.H[,L.H] [--ablation zero|mean]]
//   hooklab cache    --model DIR [--no-processing] [--no-bos] [--names REGEX] [--attn-result] --prompt TEXT --out DIR
//                    [--grad [--metric M] [--answer STR [--wrong STR]] [--position P]]
//   hooklab patch    --model DIR [--no-processing] --clean TEXT --corrupted TEXT --answer STR --wrong STR --act ACT
//                    [--metric logit_diff|prob|logprob|rank] [--normalize] [--position P] [--direction noising]
//                    [--dataset FILE.jsonl [--bootstrap N] [--seed S]]
//   hooklab attribute  (patch's arguments) [--method atp|atp-star] [--compare]
//   hooklab path-patch --model DIR --clean TEXT --corrupted TEXT --answer STR --wrong STR
//                    [--receivers logits|L.H:q|k|v[,...]] [--direction noising|denoising] [--normalize] [--metric M]
//   hooklab lens     --model DIR --prompt TEXT [--answer STR --wrong STR] [--position P] [--top-k K]
//   hooklab dla      --model DIR --prompt TEXT --answer STR --wrong STR [--position P]
//   hooklab heads    --model DIR [--seq-len N] [--seed S]
//   hooklab evaluate --model DIR [--ioi FILE.jsonl] [--repeated FILE.json]
//   hooklab convert  --model DIR --out DIR --dtype f16|bf16|f32
//
// Output is JSON on stdout. Failures print one "error: ..." line on stderr and exit with 1
// (bad data: model files, prompts, tokens) or 2 (bad usage: options, names).
#include <cstdio>
#include <string>
#include <vector>

#include "commands/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: hooklab <command> [options]\n"
    "commands:\n"
    "  tokenize  --text TEXT [--no-bos] [--model DIR]        tokens, their strings, the text decoded back\n"
    "  run       --model DIR --prompt TEXT [--top-k K]       next-token predictions and loss\n"
    "  generate  --model DIR --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P]\n"
    "            [--freq-penalty F] [--seed S] [--stop-at-eos]   sampled text, each step's token, probability, top-5\n"
    "            [--steer HOOK:LAYER:COEF --steer-from A --steer-to B [--steer-by activations|unembed]\n"
    "             [--steer-positions prompt|all|new]]\n"
    "            activation addition: COEF * (acts(B) - acts(A)) added at HOOK (e.g. resid_pre:6:10);\n"
    "            --steer-by unembed: COEF * the unit direction W_U[:, B] - W_U[:, A] (A optional, single tokens)\n"
    "            [--ablate-head L.H[,L.H] [--ablation zero|mean]]   heads ablated during generation\n"
    "  cache     --model DIR --prompt TEXT --out DIR          every activation as .npy\n"
    "            [--grad [--metric loss|token_loss|logit_diff|prob|logprob] [--answer S --wrong S] [--position P]]\n"
    "            also every gradient as <hook>_grad.npy (default metric: mean loss; logit_diff with --answer)\n"
    "  patch     --model DIR --clean T --corrupted T --answer S --wrong S --act ACT\n"
    "            [--metric logit_diff|prob|logprob|rank] [--normalize] [--position P] [--direction noising]\n"
    "            ACT: resid_pre resid_mid attn_out mlp_out head_out head_q head_k head_v head_pattern\n"
    "                 head_out_by_pos head_q_by_pos head_k_by_pos head_v_by_pos head_pattern_by_pos\n"
    "                 head_pattern_dest_src block_every head_all_pos_every head_by_pos_every\n"
    "            [--dataset FILE.jsonl [--bootstrap N] [--seed S]]   mean and 95% bootstrap CI over prompt pairs\n"
    "  attribute the same arguments as patch, [--method atp|atp-star] [--compare]\n"
    "            attribution patching: every cell from one backward pass; --compare adds the exact sweep\n"
    "            and their agreement (Pearson, Spearman, top-10 overlap)\n"
    "  path-patch --model DIR --clean T --corrupted T --answer S --wrong S [--receivers logits|L.H:q|k|v,...]\n"
    "            [--direction noising|denoising] [--normalize] [--metric M] [--position P]\n"
    "            path patching (IOI paper): each sender head's effect through the receivers only, [L,H];\n"
    "            every other head frozen; default receivers: the logits; default direction: noising\n"
    "  lens      --model DIR --prompt TEXT [--answer S --wrong S] [--position P] [--top-k K]   logit lens\n"
    "  dla       --model DIR --prompt TEXT --answer S --wrong S [--position P]   direct logit attribution\n"
    "  heads     --model DIR [--seq-len N] [--seed S]   previous-token / duplicate / induction scores\n"
    "  evaluate  --model DIR [--ioi FILE.jsonl] [--repeated FILE.json]   a model card's IOI and induction numbers\n"
    "  convert   --model DIR --out DIR --dtype f16|bf16|f32   rewrite the weights in another dtype\n"
    "model options: --no-processing (Hugging Face weights, no TransformerLens folding),\n"
    "               --threads N (default: 1 for models narrower than 512, else up to 4),\n"
    "               --tokenizer DIR (default models/tokenizer), --no-bos,\n"
    "               --weights f32|f16 (f16: the matrices kept as f16 in memory, half the bytes)\n";

int exit_code(const hooklab::Error& error) { return error.code == hooklab::ErrorCode::kInvalidArgument ? 2 : 1; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  hooklab::Status status;
  if (command == "tokenize") {
    status = hooklab::cli::tokenize_command(args);
  } else if (command == "run") {
    status = hooklab::cli::run_command(args);
  } else if (command == "generate") {
    status = hooklab::cli::generate_command(args);
  } else if (command == "cache") {
    status = hooklab::cli::cache_command(args);
  } else if (command == "patch") {
    status = hooklab::cli::patch_command(args);
  } else if (command == "attribute") {
    status = hooklab::cli::attribute_command(args);
  } else if (command == "path-patch") {
    status = hooklab::cli::path_patch_command(args);
  } else if (command == "lens") {
    status = hooklab::cli::lens_command(args);
  } else if (command == "dla") {
    status = hooklab::cli::dla_command(args);
  } else if (command == "heads") {
    status = hooklab::cli::heads_command(args);
  } else if (command == "evaluate") {
    status = hooklab::cli::evaluate_command(args);
  } else if (command == "convert") {
    status = hooklab::cli::convert_command(args);
  } else {
    std::fprintf(stderr, "error: unknown command '%s' (try: hooklab --help)\n", command.c_str());
    return 2;
  }
  if (!status.ok()) {
    std::string message = status.error().message;
    for (char& c : message) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return exit_code(status.error());
  }
  return 0;
}
