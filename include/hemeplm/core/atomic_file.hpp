// Writing output files so that a reader never sees a half-written file and a failed run never
// replaces a good file: write to a temporary file beside the target, fsync, rename.
#pragma once

#include <string>
#include <string_view>

namespace hemeplm {

/// Writes `contents` to `path` atomically. Throws InputError (naming `path`) when the folder does not
/// exist or is not writable; the target is untouched in that case.
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace hemeplm
