// Names of the snapshot's enumerations, as the JSON and the metrics spell them.
#include <xmem/snapshot.h>

namespace xmem {

std::string_view toString(Backing backing) noexcept {
  switch (backing) {
    case Backing::HugeTlb: return "hugetlb";
    case Backing::Transparent: return "thp";
    case Backing::Base: return "base";
  }
  return "base";
}

std::string_view toString(Health health) noexcept {
  switch (health) {
    case Health::Green: return "green";
    case Health::Yellow: return "yellow";
    case Health::Red: return "red";
  }
  return "red";
}

}  // namespace xmem
