// The live page: one HTML document with the numbers already in it (curl and text browsers see
// them), and one script that refreshes them from /api/v1 every 2 s and draws the history. Both
// are compiled into the binary: no CDN, no network, so the Content-Security-Policy can be 'self'.
#pragma once

#include <xmem/snapshot.h>

#include <string>
#include <string_view>

namespace xmem::server {

class History;

/// The whole page for `snapshot`, its graphs drawn from `history` (inline SVG).
std::string renderPage(const Snapshot& snapshot, const History& history);
/// The page's script (served as /page.js) and style sheet (/page.css).
std::string_view pageScript() noexcept;
std::string_view pageStyle() noexcept;

}  // namespace xmem::server
