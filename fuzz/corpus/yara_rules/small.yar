rule a { strings: $a = "abc" nocase $b = { 01 02 ?? 04 } $c = /x[0-9]+y/ condition: $a or ($b and #c > 2) }
