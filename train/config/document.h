// The parsed configuration behind every Node (train/config/config_node.h): the merged toml++
// tree and the bookkeeping that check_all_used() reports from. Internal to train/config/.
#pragma once

#include "train/config/config_node.h"

#include <toml++/toml.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace splat::train::config {

struct Document {
  toml::table root;
  // Nodes some binding looked up.
  std::unordered_set<const toml::node*> used;
  // Per table, the keys bindings asked for (present or not), in first-asked order: what an
  // unknown-key error lists as the table's keys.
  std::unordered_map<const toml::node*, std::vector<std::string>> asked;
  // The source names (files, then overrides) in the order errors list them.
  std::vector<std::string> sources;

  // The root of a parsed tree. The Document is shared by every Node taken from it.
  static Node open(toml::table&& root, std::vector<std::string> sources) {
    auto doc = std::make_shared<Document>();
    doc->root = std::move(root);
    doc->sources = std::move(sources);
    const toml::node* r = &doc->root;
    return Node(std::move(doc), r, "");
  }
};

} // namespace splat::train::config
