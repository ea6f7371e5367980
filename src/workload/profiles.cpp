#include <xmem/profiles.h>
#include <xmem/types.h>

#include <algorithm>
#include <cctype>

namespace xmem {
namespace {

// RandomX: dataset = RANDOMX_DATASET_BASE_SIZE (2 GiB) + RANDOMX_DATASET_EXTRA_SIZE (33554368),
// allocated as 2080 MiB; cache = RANDOMX_ARGON_MEMORY (262144 KiB); scratchpad = L3 size; JIT
// code buffer of 64 KiB per virtual machine.
constexpr std::size_t kRandomXDataset = 2080 * MiB;
constexpr std::size_t kRandomXCache = 256 * MiB;
constexpr std::size_t kRandomXJit = 64 * KiB;

MemoryProfile randomx(std::string name, std::string description, std::size_t scratchpad) {
  return {std::move(name), "randomx", std::move(description), kRandomXDataset, kRandomXCache, scratchpad, kRandomXJit, true};
}

MemoryProfile perThread(std::string name, std::string family, std::string description, std::size_t scratchpad) {
  return {std::move(name), std::move(family), std::move(description), 0, 0, scratchpad, 0, false};
}

std::vector<MemoryProfile> makeProfiles() {
  return {
      randomx("rx/0", "RandomX fast mode (Monero)", 2 * MiB),
      {"rx/light", "randomx", "RandomX light mode: the 256 MiB cache only, no dataset", 0, kRandomXCache, 2 * MiB,
       kRandomXJit, false},
      randomx("rx/wow", "RandomWOW (Wownero)", 1 * MiB),
      randomx("rx/arq", "RandomARQ (ArQmA)", 256 * KiB),
      randomx("rx/graft", "RandomGRAFT (Graft)", 2 * MiB),
      randomx("rx/sfx", "RandomSFX (Safex)", 2 * MiB),
      randomx("rx/keva", "RandomKEVA (Keva)", 1 * MiB),
      randomx("rx/xdag", "RandomXDAG (XDAG)", 2 * MiB),
      perThread("cn/0", "cryptonight", "CryptoNight and its 2 MiB variants (cn/1, cn/2, cn/r, cn/half, ...)", 2 * MiB),
      perThread("cn-lite/0", "cryptonight", "CryptoNight-Lite (1 MiB)", 1 * MiB),
      perThread("cn-heavy/0", "cryptonight", "CryptoNight-Heavy (4 MiB; cn-heavy/xhv, cn-heavy/tube)", 4 * MiB),
      perThread("cn-pico/0", "cryptonight", "CryptoNight-Pico (256 KiB; cn-pico/tlo)", 256 * KiB),
      perThread("cn/upx2", "cryptonight", "CryptoNight-Femto UPX2 (128 KiB)", 128 * KiB),
      perThread("argon2/chukwa", "argon2", "Argon2id Chukwa (512 KiB)", 512 * KiB),
      perThread("argon2/chukwav2", "argon2", "Argon2id Chukwa v2 (1 MiB)", 1 * MiB),
      perThread("argon2/wrkz", "argon2", "Argon2id WRKZ / Ninja (256 KiB)", 256 * KiB),
      perThread("ghostrider", "ghostrider", "GhostRider (Raptoreum): CryptoNight steps up to 2 MiB", 2 * MiB),
  };
}

bool sameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const std::vector<MemoryProfile>& memoryProfiles() {
  static const std::vector<MemoryProfile> profiles = makeProfiles();
  return profiles;
}

const MemoryProfile* findProfile(std::string_view name) {
  for (const auto& profile : memoryProfiles())
    if (sameName(profile.name, name)) return &profile;
  return nullptr;
}

std::string profileNames() {
  std::string names;
  for (const auto& profile : memoryProfiles()) names += (names.empty() ? "" : ", ") + profile.name;
  return names;
}

}  // namespace xmem
