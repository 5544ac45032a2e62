// llvm_stream.h: streaming (non-temporal) stores for rows too large to stay in cache.
//
// A kernel that writes a result larger than the last-level cache gains nothing from
// keeping its lines: a plain store must first read each line (a read for ownership)
// and later write it back, so the result crosses the memory bus twice. A non-temporal
// store writes whole lines without reading them. x86 has non-temporal vector stores only
// for aligned addresses, and LLVM's loop vectoriser refuses a loop whose scalar stores
// carry !nontemporal unless the target has them at the scalar's alignment. So:
//   - the generator stores plainly, from a base it has checked to be 64-byte aligned
//     (llvm.ptrmask makes that known to the analyses), and tags each such store with
//     stream_tag(): a TBAA tag of its own root, which the vectoriser keeps on the widened
//     store and which never makes two accesses no-alias;
//   - lower_stream_stores(), after the optimisation pipeline, makes each tagged vector
//     store whose address is known to be aligned to its size non-temporal, drops every
//     tag, and ends each function that streams with an sfence (non-temporal stores are
//     weakly ordered: the data must be visible before the kernel returns to the thread
//     pool's barrier).
// Internal to backends/cpu (LLVM types in the interface).
#pragma once

#include <llvm/IR/IRBuilder.h>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace tevo::cpu::stream {

/// Tags store `s` as one to make non-temporal where the vectorised form allows it.
void tag(llvm::StoreInst* s);

/// Lowers tagged stores (see above); returns how many became non-temporal. Run once, after
/// the optimisation pipeline.
int lower_stream_stores(llvm::Module& m, const llvm::TargetMachine& tm);

} // namespace tevo::cpu::stream
