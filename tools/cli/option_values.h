// Option values given as text on the command line (numbers, sizes), turned
// into numbers with a short message naming the option and what it expects
// when they are not what it takes.
#ifndef OPOSSUM_CLI_OPTION_VALUES_H_
#define OPOSSUM_CLI_OPTION_VALUES_H_

#include <cstdint>
#include <string_view>

namespace opossum::cli {

// A whole number written in decimal digits, from `min` to `max`. Throws
// CliError::Invalid, e.g. `--from: expected a whole number from 0 to
// 18446744073709551615, got "-1"`.
uint64_t ParseWholeNumber(std::string_view option, std::string_view text, uint64_t min,
                          uint64_t max);

// A number of seconds greater than 0 ("3", "0.5", "1e2"). Throws
// CliError::Invalid.
double ParseSeconds(std::string_view option, std::string_view text);

// A size in bytes: a whole number, optionally followed by K, M, G or T
// (powers of 1024; KiB, MiB, GiB and TiB mean the same, in any letter case),
// from `min` to `max`. Throws CliError::Invalid.
uint64_t ParseByteSize(std::string_view option, std::string_view text, uint64_t min, uint64_t max);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_OPTION_VALUES_H_
