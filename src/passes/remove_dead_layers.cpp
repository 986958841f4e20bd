// Removes layers none of whose outputs reach a network output.
#include <set>

#include "passes/pass.h"

namespace torch2trt {

int remove_dead_layers(Network& net, const BuilderConfig&) {
  std::set<const Tensor*> live;
  for (int i = 0; i < net.num_outputs(); ++i) live.insert(net.output(i));
  std::vector<Layer*> dead;
  for (int i = net.num_layers() - 1; i >= 0; --i) {
    Layer* l = net.layer(i);
    bool used = false;
    for (auto* t : l->outputs()) used = used || live.count(t);
    if (!used) {
      dead.push_back(l);
      continue;
    }
    for (auto* t : l->inputs())
      if (t) live.insert(t);
  }
  if (!dead.empty()) net.remove_layers(dead);
  return static_cast<int>(dead.size());
}

}  // namespace torch2trt
