// COCOeval (see coco_eval.h). Categories are independent (pycocotools' evalImgs and accumulate
// both loop over them outermost), so each category runs start to end on one thread: its
// per-image matching for the four area ranges, then its precision and recall.
#include "train/eval/coco_eval.h"

#include "core/error.h"
#include "core/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <mutex>
#include <numeric>

namespace splat::train {

double iou_threshold(size_t t) {
  SPLAT_CHECK(t < kIouThresholds, "iou_threshold: index ", t);
  if (t == kIouThresholds - 1) return 0.95; // linspace sets the endpoint exactly
  // numpy: arange(10) * ((0.95 - 0.5) / 9), then + 0.5: two roundings (no fused multiply-add).
  volatile double scaled = static_cast<double>(t) * ((0.95 - 0.5) / 9);
  return scaled + 0.5;
}

double recall_threshold(size_t r) {
  SPLAT_CHECK(r < kRecallThresholds, "recall_threshold: index ", r);
  return r == kRecallThresholds - 1 ? 1.0 : static_cast<double>(r) * 0.01;
}

namespace {

constexpr std::array<double, kAreaRanges> kAreaLo = {0, 0, 32 * 32, 96 * 96};
constexpr std::array<double, kAreaRanges> kAreaHi = {1e10, 32 * 32, 96 * 96, 1e10};
constexpr double kEps = 2.220446049250313e-16; // np.spacing(1)
static_assert(kIouThresholds <= 16, "per-threshold flags are 16-bit masks");

bool outside(double area, size_t a) { return area < kAreaLo[a] || area > kAreaHi[a]; }

// One detection after matching, for one area range: bit t of tp / fp is COCOeval's tps / fps at
// IoU threshold t (neither bit: ignored).
struct MatchedDet {
  double score;
  uint32_t rank; // position among its image's detections (by score) for maxDets
  uint16_t tp, fp;
};

// What one category collects over the images, per area range.
struct CategoryMatches {
  std::array<std::vector<MatchedDet>, kAreaRanges> dets; // image order, then score order
  std::array<uint64_t, kAreaRanges> npig{};              // non-ignored gts
  bool any = false;                                      // some image has a gt or a detection
};

// Indices sorted by descending score, ties in their given order (numpy's mergesort on -score).
template <class Score> void sort_by_score(std::vector<uint32_t>& idx, Score&& score) {
  std::stable_sort(idx.begin(), idx.end(),
                   [&](uint32_t a, uint32_t b) { return score(a) > score(b); });
}

class Evaluator {
public:
  Evaluator(const data::CocoDataset& gt, const DetectionResults& res, IouType iou_type)
      : gt_(gt), res_(res), iou_type_(iou_type), K_(gt.categories().size()) {
    const size_t n_images = gt.images().size();
    std::vector<uint32_t> by_id(n_images);
    std::iota(by_id.begin(), by_id.end(), 0u);
    std::sort(by_id.begin(), by_id.end(),
              [&](uint32_t a, uint32_t b) { return gt.images()[a].id < gt.images()[b].id; });
    rank_.resize(n_images);
    for (uint32_t r = 0; r < n_images; ++r) rank_[by_id[r]] = r;

    // (image rank, index) per category; sorted, that is image order then file order.
    gts_.resize(K_);
    dts_.resize(K_);
    for (uint32_t i = 0; i < gt.annotations().size(); ++i) {
      const data::CocoAnnotation& a = gt.annotations()[i];
      gts_[a.label].push_back({rank_[a.image_index], i});
    }
    const auto& cats = gt.categories();
    for (uint32_t i = 0; i < res.detections.size(); ++i) {
      const Detection& d = res.detections[i];
      const auto c =
          std::lower_bound(cats.begin(), cats.end(), d.category_id,
                           [](const data::CocoCategory& c, int64_t id) { return c.id < id; });
      if (c == cats.end() || c->id != d.category_id) continue; // as getAnnIds(catIds=...)
      dts_[static_cast<size_t>(c - cats.begin())].push_back({rank_[d.image_index], i});
    }
    for (size_t k = 0; k < K_; ++k) {
      std::sort(gts_[k].begin(), gts_[k].end());
      std::sort(dts_[k].begin(), dts_[k].end());
    }
  }

  CocoEvalResult run() {
    CocoEvalResult r;
    r.iou_type = iou_type_;
    for (const data::CocoCategory& c : gt_.categories()) {
      r.category_ids.push_back(c.id);
      r.category_names.push_back(c.name);
    }
    r.precision.assign(kIouThresholds * kRecallThresholds * K_ * kAreaRanges * kMaxDetSettings,
                       -1.0);
    r.recall.assign(kIouThresholds * K_ * kAreaRanges * kMaxDetSettings, -1.0);
    std::exception_ptr error;
    std::mutex error_mutex;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t k = 0; k < K_; ++k) {
      try {
        accumulate(match_category(k), k, r);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    summarize(r);
    return r;
  }

private:
  using Entry = std::pair<uint32_t, uint32_t>; // (image rank, annotation or detection index)

  // evaluateImg for every image of category k and every area range.
  CategoryMatches match_category(size_t k) const {
    CategoryMatches out;
    const std::vector<Entry>& gts = gts_[k];
    const std::vector<Entry>& dts = dts_[k];
    std::vector<data::Rle> gt_masks;
    if (iou_type_ == IouType::segm)
      for (const Entry& e : gts) gt_masks.push_back(gt_.rle(e.second));

    std::vector<uint32_t> g_idx, d_idx, order;
    std::vector<double> ious;
    std::vector<uint8_t> crowd, ignore, matched;
    std::vector<uint64_t> gt_ids;
    std::vector<uint16_t> dt_matched, dt_ignored; // bit t per detection
    size_t gi = 0, di = 0;
    while (gi < gts.size() || di < dts.size()) {
      const uint32_t image = std::min(gi < gts.size() ? gts[gi].first : UINT32_MAX,
                                      di < dts.size() ? dts[di].first : UINT32_MAX);
      const size_t g0 = gi, d0 = di;
      while (gi < gts.size() && gts[gi].first == image) ++gi;
      while (di < dts.size() && dts[di].first == image) ++di;
      out.any = true;
      const size_t G = gi - g0;
      d_idx.clear();
      for (size_t i = d0; i < di; ++i) d_idx.push_back(dts[i].second);
      sort_by_score(d_idx, [&](uint32_t i) { return res_.detections[i].score; });
      if (d_idx.size() > static_cast<size_t>(kMaxDets.back())) d_idx.resize(kMaxDets.back());
      const size_t D = d_idx.size();
      compute_ious(gts, g0, G, gt_masks, d_idx, ious);

      crowd.resize(G);
      for (size_t g = 0; g < G; ++g) crowd[g] = gt_.annotations()[gts[g0 + g].second].iscrowd;
      for (size_t a = 0; a < kAreaRanges; ++a) {
        // gts: non-ignored first, stable (np.argsort(_ignore, kind='mergesort')).
        ignore.resize(G);
        order.clear();
        for (size_t g = 0; g < G; ++g) {
          const data::CocoAnnotation& ann = gt_.annotations()[gts[g0 + g].second];
          ignore[g] = ann.iscrowd || outside(ann.area, a);
          if (!ignore[g]) order.push_back(static_cast<uint32_t>(g)), ++out.npig[a];
        }
        for (size_t g = 0; g < G; ++g)
          if (ignore[g]) order.push_back(static_cast<uint32_t>(g));
        dt_matched.assign(D, 0);
        dt_ignored.assign(D, 0);
        if (D > 0 && G > 0) {
          for (size_t t = 0; t < kIouThresholds; ++t) {
            matched.assign(G, 0);
            for (size_t d = 0; d < D; ++d) {
              double best = std::min(iou_threshold_[t], 1 - 1e-10);
              ptrdiff_t m = -1;
              for (size_t j = 0; j < G; ++j) {
                const uint32_t g = order[j];
                if (matched[j] && !crowd[g]) continue;
                if (m > -1 && !ignore[order[static_cast<size_t>(m)]] && ignore[g]) break;
                const double v = ious[d * G + g];
                if (v < best) continue;
                best = v;
                m = static_cast<ptrdiff_t>(j);
              }
              if (m == -1) continue;
              const uint32_t g = order[static_cast<size_t>(m)];
              if (ignore[g]) dt_ignored[d] |= uint16_t(1u << t);
              // dtMatches holds the gt's id: an id of 0 reads as unmatched.
              if (gt_.annotations()[gts[g0 + g].second].id != 0) dt_matched[d] |= uint16_t(1u << t);
              matched[static_cast<size_t>(m)] = 1;
            }
          }
        }
        constexpr uint16_t kAll = (1u << kIouThresholds) - 1;
        for (size_t d = 0; d < D; ++d) {
          const Detection& det = res_.detections[d_idx[d]];
          uint16_t ig = dt_ignored[d];
          if (outside(det.area, a)) ig |= uint16_t(~dt_matched[d] & kAll);
          out.dets[a].push_back({det.score, static_cast<uint32_t>(d),
                                 uint16_t(dt_matched[d] & ~ig & kAll),
                                 uint16_t(~dt_matched[d] & ~ig & kAll)});
        }
      }
    }
    return out;
  }

  // ious[d * G + g] of the image's detections d_idx (score order) and gts [g0, g0 + G).
  void compute_ious(const std::vector<Entry>& gts, size_t g0, size_t G,
                    const std::vector<data::Rle>& gt_masks, const std::vector<uint32_t>& d_idx,
                    std::vector<double>& ious) const {
    ious.clear();
    if (G == 0 || d_idx.empty()) return;
    std::vector<bool> crowd(G);
    for (size_t g = 0; g < G; ++g) crowd[g] = gt_.annotations()[gts[g0 + g].second].iscrowd;
    if (iou_type_ == IouType::bbox) {
      std::vector<data::BoxXywh> d, g;
      for (uint32_t i : d_idx) d.push_back(res_.detections[i].bbox);
      for (size_t j = 0; j < G; ++j) g.push_back(gt_.annotations()[gts[g0 + j].second].bbox);
      ious = data::box_iou(d, g, crowd);
    } else {
      std::vector<data::Rle> d, g(gt_masks.begin() + static_cast<ptrdiff_t>(g0),
                                  gt_masks.begin() + static_cast<ptrdiff_t>(g0 + G));
      for (uint32_t i : d_idx) d.push_back(*res_.detections[i].mask);
      ious = data::rle_iou(d, g, crowd);
    }
  }

  // accumulate() for category k.
  void accumulate(const CategoryMatches& c, size_t k, CocoEvalResult& r) const {
    if (!c.any) return;
    std::vector<uint32_t> idx;
    std::vector<double> rc, pr;
    for (size_t a = 0; a < kAreaRanges; ++a) {
      if (c.npig[a] == 0) continue;
      const std::vector<MatchedDet>& dets = c.dets[a];
      const double npig = static_cast<double>(c.npig[a]);
      for (size_t m = 0; m < kMaxDetSettings; ++m) {
        idx.clear();
        for (uint32_t i = 0; i < dets.size(); ++i)
          if (dets[i].rank < static_cast<uint32_t>(kMaxDets[m])) idx.push_back(i);
        sort_by_score(idx, [&](uint32_t i) { return dets[i].score; });
        const size_t nd = idx.size();
        for (size_t t = 0; t < kIouThresholds; ++t) {
          rc.resize(nd);
          pr.resize(nd);
          double tp = 0, fp = 0;
          for (size_t i = 0; i < nd; ++i) {
            const MatchedDet& d = dets[idx[i]];
            tp += (d.tp >> t) & 1;
            fp += (d.fp >> t) & 1;
            rc[i] = tp / npig;
            pr[i] = tp / (fp + tp + kEps);
          }
          const size_t ri = (t * K_ + k) * kAreaRanges + a;
          r.recall[ri * kMaxDetSettings + m] = nd ? rc[nd - 1] : 0;
          for (size_t i = nd; i-- > 1;)
            if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          for (size_t q = 0; q < kRecallThresholds; ++q) {
            const size_t at = static_cast<size_t>(
                std::lower_bound(rc.begin(), rc.end(), recall_threshold_[q]) - rc.begin());
            r.precision[(((t * kRecallThresholds + q) * K_ + k) * kAreaRanges + a) *
                            kMaxDetSettings +
                        m] = at < nd ? pr[at] : 0;
          }
        }
      }
    }
  }

  // summarize(): means of the entries that are not -1.
  void summarize(CocoEvalResult& r) const {
    auto mean = [](const std::vector<double>& v) {
      double s = 0;
      size_t n = 0;
      for (double x : v)
        if (x > -1) s += x, ++n;
      return n ? s / static_cast<double>(n) : -1.0;
    };
    auto ap = [&](ptrdiff_t t_only, size_t a, size_t m) {
      std::vector<double> v;
      for (size_t t = 0; t < kIouThresholds; ++t)
        if (t_only < 0 || static_cast<size_t>(t_only) == t)
          for (size_t q = 0; q < kRecallThresholds; ++q)
            for (size_t k = 0; k < K_; ++k) v.push_back(r.precision_at(t, q, k, a, m));
      return mean(v);
    };
    auto ar = [&](size_t a, size_t m) {
      std::vector<double> v;
      for (size_t t = 0; t < kIouThresholds; ++t)
        for (size_t k = 0; k < K_; ++k) v.push_back(r.recall_at(t, k, a, m));
      return mean(v);
    };
    r.stats = {ap(-1, 0, 2), ap(0, 0, 2), ap(5, 0, 2), ap(-1, 1, 2), ap(-1, 2, 2), ap(-1, 3, 2),
               ar(0, 0),     ar(0, 1),    ar(0, 2),    ar(1, 2),     ar(2, 2),     ar(3, 2)};
  }

  const data::CocoDataset& gt_;
  const DetectionResults& res_;
  IouType iou_type_;
  size_t K_;
  std::vector<uint32_t> rank_; // image index -> position by ascending id
  std::vector<std::vector<Entry>> gts_, dts_;
  const std::array<double, kIouThresholds> iou_threshold_ = [] {
    std::array<double, kIouThresholds> t{};
    for (size_t i = 0; i < t.size(); ++i) t[i] = iou_threshold(i);
    return t;
  }();
  const std::array<double, kRecallThresholds> recall_threshold_ = [] {
    std::array<double, kRecallThresholds> t{};
    for (size_t i = 0; i < t.size(); ++i) t[i] = recall_threshold(i);
    return t;
  }();
};

} // namespace

double CocoEvalResult::category_ap(size_t k) const {
  SPLAT_CHECK(k < category_ids.size(), "category_ap: category ", k, " of ", category_ids.size());
  double s = 0;
  size_t n = 0;
  for (size_t t = 0; t < kIouThresholds; ++t)
    for (size_t q = 0; q < kRecallThresholds; ++q) {
      const double p = precision_at(t, q, k, 0, kMaxDetSettings - 1);
      if (p > -1) s += p, ++n;
    }
  return n ? s / static_cast<double>(n) : -1.0;
}

CocoEvalResult coco_evaluate(const data::CocoDataset& gt, const DetectionResults& results,
                             IouType iou_type) {
  return Evaluator(gt, results, iou_type).run();
}

std::string coco_summary(const CocoEvalResult& r) {
  struct Line {
    bool ap;
    const char* iou;
    size_t area;
    int max_dets;
  };
  static constexpr std::array<Line, 12> kLines = {{{true, "0.50:0.95", 0, 100},
                                                   {true, "0.50", 0, 100},
                                                   {true, "0.75", 0, 100},
                                                   {true, "0.50:0.95", 1, 100},
                                                   {true, "0.50:0.95", 2, 100},
                                                   {true, "0.50:0.95", 3, 100},
                                                   {false, "0.50:0.95", 0, 1},
                                                   {false, "0.50:0.95", 0, 10},
                                                   {false, "0.50:0.95", 0, 100},
                                                   {false, "0.50:0.95", 1, 100},
                                                   {false, "0.50:0.95", 2, 100},
                                                   {false, "0.50:0.95", 3, 100}}};
  std::string out;
  for (size_t i = 0; i < kLines.size(); ++i) {
    const Line& l = kLines[i];
    // ' {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}'
    char buf[128];
    std::snprintf(buf, sizeof buf, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
                  l.ap ? "Average Precision" : "Average Recall", l.ap ? "(AP)" : "(AR)", l.iou,
                  kAreaNames[l.area], l.max_dets, r.stats[i]);
    out += buf;
  }
  return out;
}

std::string coco_summary_json(const CocoEvalResult& r) {
  auto number = [](double v) { // the shortest text that reads back as v
    char buf[32];
    const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    return std::string(buf, end);
  };
  std::string out = str("{\"iou_type\": \"", r.iou_type == IouType::bbox ? "bbox" : "segm", "\"");
  for (size_t i = 0; i < r.stats.size(); ++i)
    out += str(", \"", kStatNames[i], "\": ", number(r.stats[i]));
  out += ", \"per_category\": [";
  for (size_t k = 0; k < r.category_ids.size(); ++k) {
    if (k) out += ", ";
    out += str("{\"id\": ", r.category_ids[k], ", \"name\": ");
    append_json_string(out, r.category_names[k]);
    out += str(", \"AP\": ", number(r.category_ap(k)), "}");
  }
  out += "]}";
  return out;
}

} // namespace splat::train
