// Numbers from command lines and text files, parsed whole and range-checked (issue #11): std::from_chars,
// no locale, no silent wrap. Errors name the argument: "--m '12x': trailing characters 'x'".
#pragma once

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace fp8sim {

// Parses all of `text` as a T in [lo, hi]; throws std::invalid_argument("<what> '<text>': <reason>") for an
// empty text, a sign or character that does not start a number, negatives for unsigned T, trailing
// characters, values outside [lo, hi] (overflow of T included) and, for floating T, NaN and infinities.
template <class T>
T parse_number(std::string_view text, const std::string& what, T lo = std::numeric_limits<T>::lowest(),
               T hi = std::numeric_limits<T>::max()) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "parse_number: arithmetic types only");
  auto fail = [&](const std::string& why) -> T {
    throw std::invalid_argument(what + " '" + std::string(text) + "': " + why);
  };
  auto range = [&]() {
    if constexpr (std::is_integral_v<T>)
      return "out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    else
      return std::string("out of range");
  };
  if (text.empty()) return fail("not a number (empty)");
  if (std::is_unsigned_v<T> && text.front() == '-') return fail("must not be negative");
  // from_chars takes no leading '+'; accept one, as people write it.
  std::string_view t = text.front() == '+' ? text.substr(1) : text;
  T v{};
  const char* first = t.data();
  const char* last = t.data() + t.size();
  std::from_chars_result r;
  if constexpr (std::is_integral_v<T>)
    r = std::from_chars(first, last, v, 10);
  else
    r = std::from_chars(first, last, v, std::chars_format::general);
  if (r.ec == std::errc::invalid_argument || r.ptr == first) return fail("not a number");
  if (r.ec == std::errc::result_out_of_range) return fail(range());
  if (r.ptr != last) return fail("trailing characters '" + std::string(r.ptr, last) + "'");
  if constexpr (std::is_floating_point_v<T>)
    if (!std::isfinite(v)) return fail("not a finite number");
  if (v < lo || v > hi) {
    if constexpr (std::is_floating_point_v<T>)
      return fail("out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    else
      return fail(range());
  }
  return v;
}

}  // namespace fp8sim
