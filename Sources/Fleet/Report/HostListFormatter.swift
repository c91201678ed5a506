/// Compacts host names the way ClusterShell's nodesets do:
/// `node001,node002,node003,node007` → `node[001-003,007]`.
public enum HostListFormatter {
    public static func compact(_ hosts: [String]) -> String {
        var groups: [(key: String, prefix: String, suffix: String, width: Int, numbers: [Int])] = []
        var plain: [String] = []
        for host in hosts {
            guard let parts = split(host) else {
                plain.append(host)
                continue
            }
            let key = "\(parts.prefix)\u{0}\(parts.suffix)\u{0}\(parts.width)"
            if let index = groups.firstIndex(where: { $0.key == key }) {
                groups[index].numbers.append(parts.number)
            } else {
                groups.append((key, parts.prefix, parts.suffix, parts.width, [parts.number]))
            }
        }
        var items: [String] = []
        for group in groups {
            let numbers = Array(Set(group.numbers)).sorted()
            if numbers.count == 1 {
                items.append(group.prefix + pad(numbers[0], group.width) + group.suffix)
                continue
            }
            var ranges: [String] = []
            var start = numbers[0]
            var previous = numbers[0]
            for number in numbers.dropFirst() + [Int.min] {
                if number == previous + 1 {
                    previous = number
                    continue
                }
                ranges.append(start == previous ? pad(start, group.width) : "\(pad(start, group.width))-\(pad(previous, group.width))")
                start = number
                previous = number
            }
            items.append("\(group.prefix)[\(ranges.joined(separator: ","))]\(group.suffix)")
        }
        return (items + plain).joined(separator: ",")
    }

    /// Splits `web012.eu` into (`web`, 12, width 3, `.eu`) at the last run of digits.
    private static func split(_ host: String) -> (prefix: String, number: Int, width: Int, suffix: String)? {
        let characters = Array(host)
        guard let last = characters.lastIndex(where: \.isNumber) else { return nil }
        var first = last
        while first > 0, characters[first - 1].isNumber { first -= 1 }
        let digits = String(characters[first...last])
        guard digits.count <= 9, let number = Int(digits) else { return nil }
        let width = digits.hasPrefix("0") ? digits.count : 0
        return (String(characters[..<first]), number, width, String(characters[(last + 1)...]))
    }

    private static func pad(_ number: Int, _ width: Int) -> String {
        let text = String(number)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
