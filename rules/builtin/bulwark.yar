// Bulwark's built-in YARA rules: compiled into the binary so a default install detects
// something. Each rule is generic and honest: it names a behaviour, not a family.
// meta.category: malware | suspicious | policy (default malware); meta.severity:
// info | low | medium | high | critical (default high).
// External variables defined by Bulwark for every object: filename (string), depth (int).

rule Bulwark_EICAR_Test_File
{
    meta:
        description = "EICAR anti-virus test file"
        category = "malware"
        severity = "high"
    strings:
        // The 68-byte EICAR string, as hex so this source does not trip scanners itself.
        $eicar = { 58 35 4F 21 50 25 40 41 50 5B 34 5C 50 5A 58 35 34 28 50 5E 29 37 43 43
                   29 37 7D 24 45 49 43 41 52 2D 53 54 41 4E 44 41 52 44 2D 41 4E 54 49 56
                   49 52 55 53 2D 54 45 53 54 2D 46 49 4C 45 21 24 48 2B 48 2A }
    condition:
        $eicar
}

rule Bulwark_EICAR_Test_String_Assembled
{
    meta:
        description = "EICAR test string assembled by a script or macro from pieces"
        category = "malware"
        severity = "high"
    strings:
        // "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!": the test string's distinctive middle, which
        // survives string splitting, shell escapes (`$, ^) and quoting around it.
        $tail = { 45 49 43 41 52 2D 53 54 41 4E 44 41 52 44 2D 41 4E 54 49 56 49 52 55 53
                  2D 54 45 53 54 2D 46 49 4C 45 21 }
        $whole = { 58 35 4F 21 50 25 40 41 50 5B 34 5C 50 5A 58 35 34 28 50 5E 29 37 43 43
                   29 37 7D 24 45 49 43 41 52 2D 53 54 41 4E 44 41 52 44 2D 41 4E 54 49 56
                   49 52 55 53 2D 54 45 53 54 2D 46 49 4C 45 21 24 48 2B 48 2A }
    condition:
        $tail and not $whole
}

rule Bulwark_Office_Macro_AutoExec
{
    meta:
        description = "Office VBA project with a macro that runs when the document opens"
        category = "suspicious"
        severity = "medium"
    strings:
        $vba1 = "VBA" wide ascii
        $vba2 = "_VBA_PROJECT" wide ascii
        $auto1 = "AutoOpen" nocase
        $auto2 = "Document_Open" nocase
        $auto3 = "Workbook_Open" nocase
        $auto4 = "Auto_Open" nocase
        $auto5 = "AutoExec" nocase
        $auto6 = "Document_New" nocase
    condition:
        uint32(0) == 0xE011CFD0 and uint32(4) == 0xE11AB1A1 and any of ($vba*) and any of ($auto*)
}

rule Bulwark_PDF_Launch_Action
{
    meta:
        description = "PDF that launches a program (/Launch action)"
        category = "suspicious"
        severity = "high"
    strings:
        $launch = "/Launch"
    condition:
        uint32(0) == 0x46445025 and $launch
}

rule Bulwark_PDF_JavaScript_On_Open
{
    meta:
        description = "PDF that runs JavaScript when opened"
        category = "suspicious"
        severity = "medium"
    strings:
        $open = "/OpenAction"
        $aa = "/AA"
        $js1 = "/JavaScript"
        $js2 = "/JS"
    condition:
        uint32(0) == 0x46445025 and ($open or $aa) and ($js1 or $js2)
}

rule Bulwark_PowerShell_Encoded_Download
{
    meta:
        description = "PowerShell that downloads or runs encoded commands"
        category = "suspicious"
        severity = "high"
    strings:
        $ps = "powershell" nocase
        $enc1 = /\s-e(nc(odedcommand)?)?\s+[A-Za-z0-9+\/=]{40,}/ nocase
        $dl1 = "DownloadString" nocase
        $dl2 = "DownloadFile" nocase
        $dl3 = "Invoke-WebRequest" nocase
        $iex1 = "IEX" fullword
        $iex2 = "Invoke-Expression" nocase
        $b64 = "FromBase64String" nocase
    condition:
        filesize < 5MB and $ps and ($enc1 or (any of ($dl*) and (any of ($iex*) or $b64)))
}

rule Bulwark_HTML_Smuggling
{
    meta:
        description = "HTML that assembles a file in the browser and saves it (HTML smuggling)"
        category = "suspicious"
        severity = "high"
    strings:
        $blob = "new Blob(" nocase
        $atob = "atob(" nocase
        $save1 = "msSaveOrOpenBlob" nocase
        $save2 = "createObjectURL" nocase
        $click = ".click()" nocase
        $download = ".download" nocase
    condition:
        filesize < 20MB and $blob and $atob and any of ($save*) and ($click or $download)
}

rule Bulwark_Executable_Double_Extension
{
    meta:
        description = "Windows executable named like a document (double extension)"
        category = "suspicious"
        severity = "high"
    condition:
        uint16(0) == 0x5A4D and
        filename matches /\.(pdf|docx?|xlsx?|pptx?|rtf|txt|jpe?g|png|gif|zip)\s*\.(exe|scr|com|pif|bat|cmd)$/is
}
