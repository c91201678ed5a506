import CLibSSH2
import COpenSSL

/// The Blowfish state bcrypt works on: the P-array and four S-boxes.
struct Blowfish {
    private var p: [UInt32] = Blowfish.initialP
    private var s: [UInt32] = Blowfish.initialS

    /// The expensive key schedule of bcrypt ("eksblowfish"), salted.
    mutating func expand(key: [UInt8], salt: [UInt8]) {
        p.withUnsafeMutableBufferPointer { p in
            s.withUnsafeMutableBufferPointer { s in
                Self.expand(p: p, s: s, key: key, salt: salt)
            }
        }
    }

    /// The key schedule without salt, as bcrypt repeats it.
    mutating func expand(key: [UInt8]) {
        expand(key: key, salt: [])
    }

    /// Overwrites the state: it is derived from the passphrase.
    mutating func wipe() {
        tasker_wipe(&p, p.count * MemoryLayout<UInt32>.size)
        tasker_wipe(&s, s.count * MemoryLayout<UInt32>.size)
    }

    /// Encrypts consecutive 64-bit blocks (pairs of words) in place.
    func encrypt(_ words: inout [UInt32]) {
        p.withUnsafeBufferPointer { p in
            s.withUnsafeBufferPointer { s in
                var index = 0
                while index + 1 < words.count {
                    (words[index], words[index + 1]) = Self.encipher(words[index], words[index + 1], p: p, s: s)
                    index += 2
                }
            }
        }
    }

    private static func expand(p: UnsafeMutableBufferPointer<UInt32>, s: UnsafeMutableBufferPointer<UInt32>,
                               key: [UInt8], salt: [UInt8]) {
        var keyPosition = 0
        for index in 0..<18 { p[index] ^= nextWord(key, &keyPosition) }
        var left: UInt32 = 0
        var right: UInt32 = 0
        var saltPosition = 0
        func step() {
            if !salt.isEmpty {
                left ^= nextWord(salt, &saltPosition)
                right ^= nextWord(salt, &saltPosition)
            }
            (left, right) = encipher(left, right, p: UnsafeBufferPointer(p), s: UnsafeBufferPointer(s))
        }
        for index in stride(from: 0, to: 18, by: 2) {
            step()
            p[index] = left
            p[index + 1] = right
        }
        for index in stride(from: 0, to: 1024, by: 2) {
            step()
            s[index] = left
            s[index + 1] = right
        }
    }

    /// The next big-endian word of `bytes`, cycling through them.
    private static func nextWord(_ bytes: [UInt8], _ position: inout Int) -> UInt32 {
        var word: UInt32 = 0
        for _ in 0..<4 {
            word = word << 8 | UInt32(bytes[position])
            position = (position + 1) % bytes.count
        }
        return word
    }

    @inline(__always)
    private static func encipher(_ left: UInt32, _ right: UInt32, p: UnsafeBufferPointer<UInt32>,
                                 s: UnsafeBufferPointer<UInt32>) -> (UInt32, UInt32) {
        @inline(__always) func f(_ x: UInt32) -> UInt32 {
            ((s[Int(x >> 24)] &+ s[256 + Int(x >> 16 & 0xff)]) ^ s[512 + Int(x >> 8 & 0xff)]) &+ s[768 + Int(x & 0xff)]
        }
        var l = left ^ p[0]
        var r = right
        var round = 1
        while round <= 16 {
            r ^= f(l) ^ p[round]
            l ^= f(r) ^ p[round + 1]
            round += 2
        }
        return (r ^ p[17], l)
    }
}

/// OpenBSD's bcrypt_pbkdf, which derives the key and IV of an encrypted
/// OpenSSH private key from its passphrase (`kdfname "bcrypt"`).
enum BcryptPBKDF {
    private static let hashOutputLength = 32

    static func deriveKey(passphrase: [UInt8], salt: [UInt8], rounds: Int, length: Int) -> [UInt8]? {
        guard rounds >= 1, length >= 1, length <= 1024, !salt.isEmpty else { return nil }
        let stride = (length + hashOutputLength - 1) / hashOutputLength
        let perBlock = (length + stride - 1) / stride
        var passphraseHash = sha512(passphrase)
        defer { tasker_wipe(&passphraseHash, passphraseHash.count) }
        var key = [UInt8](repeating: 0, count: length)
        var block: UInt32 = 1
        var remaining = length
        while remaining > 0 {
            var saltHash = sha512(salt + [UInt8(block >> 24), UInt8(block >> 16 & 0xff), UInt8(block >> 8 & 0xff), UInt8(block & 0xff)])
            var round = hash(passphraseHash: passphraseHash, saltHash: saltHash)
            var output = round
            for _ in 1..<rounds {
                saltHash = sha512(round)
                round = hash(passphraseHash: passphraseHash, saltHash: saltHash)
                for index in output.indices { output[index] ^= round[index] }
            }
            // The output bytes are spread across the key, one every `stride` bytes.
            var taken = 0
            for index in 0..<min(perBlock, remaining) {
                let destination = index * stride + Int(block - 1)
                if destination >= length { break }
                key[destination] = output[index]
                taken += 1
            }
            remaining -= taken
            block += 1
            tasker_wipe(&saltHash, saltHash.count)
            tasker_wipe(&round, round.count)
            tasker_wipe(&output, output.count)
        }
        return key
    }

    /// bcrypt's core: a Blowfish state expanded 64 times with both hashes
    /// encrypts a fixed text 64 times; the words come out little-endian.
    private static func hash(passphraseHash: [UInt8], saltHash: [UInt8]) -> [UInt8] {
        var state = Blowfish()
        defer { state.wipe() }
        state.expand(key: passphraseHash, salt: saltHash)
        for _ in 0..<64 {
            state.expand(key: saltHash)
            state.expand(key: passphraseHash)
        }
        let text = Array("OxychromaticBlowfishSwatDynamite".utf8)
        var words = (0..<8).map { index in
            text[(index * 4)..<(index * 4 + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        for _ in 0..<64 { state.encrypt(&words) }
        return words.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8 & 0xff), UInt8($0 >> 16 & 0xff), UInt8($0 >> 24)] }
    }

    private static func sha512(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 64)
        _ = bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { tasker_sha512(input.baseAddress, input.count, $0.baseAddress) }
        }
        return digest
    }
}
