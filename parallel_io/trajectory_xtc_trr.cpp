// GROMACS XTC and TRR trajectories (nm, ps, kJ/mol/nm -> Å, ps, kJ/mol/Å).
//
// XTC coordinates are compressed, so libgromacs decodes them. libgromacs, however, treats a damaged
// file badly: an empty file trips an assertion that ends the process, and a truncated one prints
// "WARNING: Incomplete frame" to stderr and reports a normal end of file. So every frame is first
// checked here from its XDR header (magic 1995, atom count, compressed byte count against the file
// size) and libgromacs only ever sees frames known to be complete.
//
// TRR is uncompressed XDR with the size of every block in its frame header, so it is read natively:
// that needs no extra validation pass and avoids libgromacs' "trr version" chatter on stderr.
#include <gromacs/fileio/oenv.h>
#include <gromacs/fileio/trxio.h>
#include <gromacs/trajectory/trajectoryframe.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "hemeplm/core/error.hpp"
#include "trajectory_readers.hpp"

namespace hemeplm::parallel_io {
namespace {

constexpr std::int32_t kXtcMagic = 1995;
constexpr std::int32_t kTrrMagic = 1993;
constexpr double kAngstromPerNm = 10.0;

// XDR is big-endian.
std::int32_t xdr_int(const unsigned char* p) {
  return static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                   (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]});
}
double xdr_real(const unsigned char* p, int bytes) {
  if (bytes == 4) {
    const std::uint32_t bits = static_cast<std::uint32_t>(xdr_int(p));
    float value;
    std::memcpy(&value, &bits, 4);
    return value;
  }
  const std::uint64_t bits = (std::uint64_t{static_cast<std::uint32_t>(xdr_int(p))} << 32) |
                             static_cast<std::uint32_t>(xdr_int(p + 4));
  double value;
  std::memcpy(&value, &bits, 8);
  return value;
}
long long round_up4(long long n) {
  return (n + 3) / 4 * 4;
}

// Reads `count` bytes at `offset` (fewer at the end of the file); returns how many were read.
std::size_t read_at(std::FILE* file, long long offset, unsigned char* out, std::size_t count) {
  if (std::fseek(file, static_cast<long>(offset), SEEK_SET) != 0) return 0;
  return std::fread(out, 1, count, file);
}

std::int32_t first_magic(std::FILE* file) {
  unsigned char bytes[4];
  return read_at(file, 0, bytes, 4) == 4 ? xdr_int(bytes) : 0;
}

struct OutputEnvDeleter {
  void operator()(gmx_output_env_t* oenv) const { output_env_done(oenv); }
};
struct TrxStatusDeleter {
  void operator()(t_trxstatus* status) const { close_trx(status); }
};
// t_trxframe owns the coordinate arrays libgromacs allocates; done_frame releases them.
struct GmxFrame {
  t_trxframe frame{};
  GmxFrame() = default;
  GmxFrame(const GmxFrame&) = delete;
  GmxFrame& operator=(const GmxFrame&) = delete;
  ~GmxFrame() { done_frame(&frame); }
};

void convert_vectors(const rvec* in, int count, double scale, std::vector<Vec3>& out) {
  out.resize(count);
  for (int i = 0; i < count; ++i) out[i] = {in[i][0] * scale, in[i][1] * scale, in[i][2] * scale};
}

class XtcSource final : public TrajectorySource {
 public:
  explicit XtcSource(const std::string& path) : path_(path) {
    scan_ = open_binary(path, size_);
    const std::int32_t magic = first_magic(scan_.get());
    if (magic != kXtcMagic) {
      throw InputError(path, frame_record(0),
                       "not an XTC file (magic number " + std::to_string(magic) + ", expected 1995)");
    }
    atoms_ = checked_frame_size_atoms();
    gmx_output_env_t* oenv = nullptr;
    output_env_init_default(&oenv);
    oenv_.reset(oenv);
  }

  const std::string& path() const override { return path_; }
  int atom_count() const override { return atoms_; }
  std::string description() const override { return "XTC (libgromacs; nm -> Å, ps)"; }

  bool next(TrajectoryFrame& frame) override {
    if (offset_ == size_) return false;
    next_offset_ = offset_ + checked_frame_size();
    bool ok = false;
    if (frame_ == 0) {
      t_trxstatus* status = nullptr;
      ok = read_first_frame(oenv_.get(), &status, path_.c_str(), &gmx_.frame, TRX_READ_X);
      status_.reset(status);
    } else {
      ok = read_next_frame(oenv_.get(), status_.get(), &gmx_.frame);
    }
    const t_trxframe& fr = gmx_.frame;
    if (!ok || !fr.bX || fr.natoms != atoms_) {
      throw InputError(path_, frame_record(frame_),
                       "libgromacs could not decode the frame (corrupt coordinates)");
    }
    convert_vectors(fr.x, atoms_, kAngstromPerNm, frame.positions);
    frame.step = fr.step;
    frame.time_ps = fr.time;
    frame.box.reset();
    if (fr.bBox) {
      Box box;
      for (int r = 0; r < 3; ++r) {
        box.vectors[r] = {fr.box[r][0] * kAngstromPerNm, fr.box[r][1] * kAngstromPerNm,
                          fr.box[r][2] * kAngstromPerNm};
      }
      if (box.volume() > 0) frame.box = box;
    }
    frame.velocities.clear();
    frame.forces.clear();
    frame.potential_energy.reset();
    offset_ = next_offset_;
    ++frame_;
    return true;
  }

 private:
  int checked_frame_size_atoms() {
    unsigned char header[8];
    if (read_at(scan_.get(), 0, header, 8) != 8) fail("truncated frame header");
    const int atoms = xdr_int(header + 4);
    if (atoms <= 0) fail("atom count " + std::to_string(atoms) + " is not positive");
    atoms_ = atoms;
    checked_frame_size();
    return atoms;
  }

  // Size in bytes of the frame at offset_, after checking it lies wholly inside the file.
  long long checked_frame_size() {
    // magic, natoms, step, time, box[9], natoms again, then either 3*natoms floats (natoms <= 9) or
    // precision, minint[3], maxint[3], smallidx, byte count and the compressed bytes.
    std::array<unsigned char, 92> header{};
    const std::size_t got = read_at(scan_.get(), offset_, header.data(), header.size());
    if (got < 56) fail("truncated: the file ends inside the frame header");
    if (xdr_int(header.data()) != kXtcMagic) {
      fail("garbled frame header (magic number " + std::to_string(xdr_int(header.data())) +
           ", expected 1995)");
    }
    const int atoms = xdr_int(header.data() + 4);
    if (atoms != atoms_ || xdr_int(header.data() + 52) != atoms_) {
      fail("frame has " + std::to_string(atoms) + " atoms, frame 0 has " + std::to_string(atoms_));
    }
    long long bytes = 56 + 12LL * atoms;
    if (atoms > 9) {
      if (got < 92) fail("truncated: the file ends inside the frame header");
      const long long compressed = xdr_int(header.data() + 88);
      if (compressed < 0) fail("garbled frame header (negative compressed size)");
      bytes = 92 + round_up4(compressed);
    }
    if (offset_ + bytes > size_) {
      fail("truncated: the frame needs " + std::to_string(bytes) + " bytes, the file has " +
           std::to_string(size_ - offset_) + " left");
    }
    return bytes;
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(path_, frame_record(frame_), problem);
  }

  std::string path_;
  FilePtr scan_;  // our own view of the file for the frame checks; libgromacs keeps its own handle
  long long size_ = 0, offset_ = 0, next_offset_ = 0;
  long frame_ = 0;
  int atoms_ = 0;
  std::unique_ptr<gmx_output_env_t, OutputEnvDeleter> oenv_;
  std::unique_ptr<t_trxstatus, TrxStatusDeleter> status_;
  GmxFrame gmx_;
};

// One TRR frame header: 13 block sizes and counts, then time and lambda in the file's precision.
struct TrrHeader {
  long long header_bytes = 0, data_bytes = 0;
  int real_bytes = 4;
  std::int32_t box = 0, vir = 0, pres = 0, x = 0, v = 0, f = 0, atoms = 0, skip = 0;
  std::int64_t step = 0;
  double time = 0;
};

class TrrSource final : public TrajectorySource {
 public:
  explicit TrrSource(const std::string& path) : path_(path) {
    file_ = open_binary(path, size_);
    const std::int32_t magic = first_magic(file_.get());
    if (magic != kTrrMagic) {
      throw InputError(path, frame_record(0),
                       "not a TRR file (magic number " + std::to_string(magic) + ", expected 1993)");
    }
    atoms_ = read_header().atoms;
    if (atoms_ <= 0) fail("atom count " + std::to_string(atoms_) + " is not positive");
  }

  const std::string& path() const override { return path_; }
  int atom_count() const override { return atoms_; }
  std::string description() const override { return "TRR (nm, nm/ps, kJ/mol/nm -> Å, Å/ps, kJ/mol/Å)"; }

  bool next(TrajectoryFrame& frame) override {
    if (offset_ == size_) return false;
    const TrrHeader h = read_header();
    if (h.atoms != atoms_)
      fail("frame has " + std::to_string(h.atoms) + " atoms, frame 0 has " + std::to_string(atoms_));
    if (h.x == 0) fail("frame has no positions (only velocities or forces)");
    const long long vector_bytes = 3LL * atoms_ * h.real_bytes;
    if ((h.box != 0 && h.box != 9 * h.real_bytes) || h.x != vector_bytes ||
        (h.v != 0 && h.v != vector_bytes) || (h.f != 0 && h.f != vector_bytes)) {
      fail("garbled frame header (block sizes do not match the atom count)");
    }
    data_.resize(static_cast<std::size_t>(h.data_bytes));
    if (read_at(file_.get(), offset_ + h.header_bytes, data_.data(), data_.size()) != data_.size()) {
      fail("read error");
    }
    const unsigned char* p = data_.data() + h.skip;  // input record and energies are not used
    frame.box.reset();
    if (h.box != 0) {
      Box box;
      for (int r = 0; r < 3; ++r)
        box.vectors[r] = read_vec(p + 3LL * r * h.real_bytes, h.real_bytes, kAngstromPerNm);
      if (box.volume() > 0) frame.box = box;
    }
    p += h.box + h.vir + h.pres;
    read_block(p, h, kAngstromPerNm, "position", frame.positions);
    p += h.x;
    frame.velocities.clear();
    if (h.v != 0) read_block(p, h, kAngstromPerNm, "velocity", frame.velocities);
    p += h.v;
    frame.forces.clear();
    if (h.f != 0) read_block(p, h, 1.0 / kAngstromPerNm, "force", frame.forces);
    frame.step = h.step;
    frame.time_ps = h.time;
    frame.potential_energy.reset();
    offset_ += h.header_bytes + h.data_bytes;
    ++frame_;
    return true;
  }

 private:
  static Vec3 read_vec(const unsigned char* p, int real_bytes, double scale) {
    return {xdr_real(p, real_bytes) * scale, xdr_real(p + real_bytes, real_bytes) * scale,
            xdr_real(p + 2 * real_bytes, real_bytes) * scale};
  }

  void read_block(const unsigned char* p, const TrrHeader& h, double scale, const char* what,
                  std::vector<Vec3>& out) const {
    out.resize(atoms_);
    for (int i = 0; i < atoms_; ++i) {
      out[i] = read_vec(p + 3LL * i * h.real_bytes, h.real_bytes, scale);
      if (!is_finite(out[i]))
        fail(std::string(what) + " of atom " + std::to_string(i + 1) + " is not finite");
    }
  }

  TrrHeader read_header() const {
    std::array<unsigned char, 128> b{};
    const std::size_t got = read_at(file_.get(), offset_, b.data(), b.size());
    if (got < 12) fail("truncated: the file ends inside the frame header");
    if (xdr_int(b.data()) != kTrrMagic) {
      fail("garbled frame header (magic number " + std::to_string(xdr_int(b.data())) + ", expected 1993)");
    }
    // magic, string length + 1, XDR string (length, bytes padded to 4): "GMX_trn_file".
    const long long text = xdr_int(b.data() + 8);
    if (text < 0 || text > 32) fail("garbled frame header (version string)");
    const long long ints = 12 + round_up4(text);
    if (static_cast<long long>(got) < ints + 13 * 4 + 16)
      fail("truncated: the file ends inside the frame header");
    TrrHeader h;
    const auto field = [&](int k) { return xdr_int(b.data() + ints + 4 * k); };
    const std::int32_t ir = field(0), e = field(1), top = field(5), sym = field(6);
    h.box = field(2), h.vir = field(3), h.pres = field(4), h.x = field(7), h.v = field(8), h.f = field(9);
    h.atoms = field(10);
    h.step = field(11);
    // Precision from whichever block is present, as libgromacs decides it.
    const long long per_atom = h.atoms > 0 ? 3LL * h.atoms : 1;
    const long long probe =
        h.box ? h.box / 9 : (h.x ? h.x / per_atom : (h.v ? h.v / per_atom : h.f / per_atom));
    if (probe != 4 && probe != 8) fail("garbled frame header (cannot tell single from double precision)");
    h.real_bytes = static_cast<int>(probe);
    h.time = xdr_real(b.data() + ints + 13 * 4, h.real_bytes);
    h.header_bytes = ints + 13 * 4 + 2LL * h.real_bytes;
    for (const std::int32_t size : {ir, e, h.box, h.vir, h.pres, top, sym, h.x, h.v, h.f}) {
      if (size < 0) fail("garbled frame header (negative block size)");
      h.data_bytes += size;
    }
    h.skip = ir + e;
    if (top != 0 || sym != 0) fail("frame holds a topology block, which TRR trajectories never do");
    if (offset_ + h.header_bytes + h.data_bytes > size_) {
      fail("truncated: the frame needs " + std::to_string(h.header_bytes + h.data_bytes) +
           " bytes, the file has " + std::to_string(size_ - offset_) + " left");
    }
    return h;
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(path_, frame_record(frame_), problem);
  }

  std::string path_;
  FilePtr file_;
  long long size_ = 0, offset_ = 0;
  long frame_ = 0;
  int atoms_ = 0;
  std::vector<unsigned char> data_;
};

}  // namespace

std::unique_ptr<TrajectorySource> open_xtc_trr(const std::string& path) {
  const std::string ext = path.substr(path.find_last_of('.') + 1);
  if (ext == "trr" || ext == "TRR" || ext == "Trr") return std::make_unique<TrrSource>(path);
  return std::make_unique<XtcSource>(path);
}

}  // namespace hemeplm::parallel_io
