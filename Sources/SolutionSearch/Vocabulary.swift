/// Microsoft 365 words people write one way and articles another: abbreviations and nicknames with their long
/// names, and the products a word points at.
enum Vocabulary {
    /// Raw token → the words it stands for (added to the query beside it, at a lower weight).
    static let expansions: [String: [String]] = [
        "exo": ["exchange", "online"], "eol": ["exchange", "online"], "o365": ["office", "365"],
        "m365": ["microsoft", "365"], "spo": ["sharepoint", "online"], "sp": ["sharepoint"],
        "od4b": ["onedrive", "business"], "odb": ["onedrive", "business"], "odfb": ["onedrive", "business"],
        "od": ["onedrive"], "mfa": ["multifactor", "authentication", "verification"],
        "2fa": ["multifactor", "authentication", "verification"], "aad": ["azure", "active", "directory", "entra"],
        "azuread": ["azure", "active", "directory", "entra"], "entra": ["azure", "active", "directory"],
        "mtr": ["teams", "rooms"], "sca": ["shared", "computer", "activation"],
        "hcw": ["hybrid", "configuration", "wizard"], "sfb": ["skype", "business"],
        "sfbo": ["skype", "business", "online"],
        "lync": ["skype", "business"], "tac": ["teams", "admin", "center"], "owa": ["outlook", "web"],
        "oof": ["automatic", "replies", "office"], "ooo": ["automatic", "replies", "office"],
        "ost": ["offline", "outlook", "data", "file"], "pst": ["outlook", "data", "file"],
        "gal": ["global", "address", "list"], "oab": ["offline", "address", "book"],
        "dl": ["distribution", "list", "group"], "dg": ["distribution", "group"], "pf": ["public", "folder"],
        "ndr": ["non", "delivery", "report", "bounce"], "dkim": ["dkim", "signing"], "spf": ["spf", "sender"],
        "dmarc": ["dmarc"], "atp": ["defender", "safe", "links", "attachments"], "dlp": ["data", "loss", "prevention"],
        "ediscovery": ["ediscovery", "content", "search"], "aadc": ["azure", "ad", "connect", "sync"],
        "dirsync": ["directory", "synchronization", "sync", "connect"], "adfs": ["federation", "services", "ad", "fs"],
        "sso": ["single", "sign"], "sspr": ["self", "service", "password", "reset"], "pw": ["password"],
        "pwd": ["password"], "cal": ["calendar"], "mtg": ["meeting"], "mtgs": ["meeting"], "msg": ["message"],
        "msgs": ["message"], "attachmnt": ["attachment"], "pic": ["picture", "photo"], "pics": ["picture", "photo"],
        "pp": ["powerpoint"], "ppt": ["powerpoint"], "xl": ["excel"], "xls": ["excel"], "xlsx": ["excel"],
        "doc": ["word", "document"], "docx": ["word", "document"], "vm": ["voicemail"],
        "cmt": ["centralized", "mail", "transport"],
        "mdm": ["mobile", "device", "management", "intune"], "eas": ["exchange", "activesync"],
        "activesync": ["activesync", "mobile"], "rds": ["remote", "desktop", "terminal", "services"],
        "rdp": ["remote", "desktop"], "vdi": ["virtual", "desktop"], "c2r": ["click", "run"],
        "ctr": ["click", "run"], "odt": ["office", "deployment", "tool"], "gpo": ["group", "policy"],
        "ps": ["powershell"], "mac": ["mac", "macos"], "macbook": ["mac"], "imac": ["mac"], "ios": ["iphone", "ios"],
        "iphone": ["iphone", "ios"],
        "android": ["android", "mobile"], "sharepoint": ["sharepoint"], "onedrive": ["onedrive"],
        "teams": ["teams"], "emails": ["email", "mail"], "email": ["mail", "message"], "mail": ["email", "message"],
        "mailbox": ["mailbox"], "signin": ["sign"], "login": ["sign"], "logon": ["sign"], "log": ["sign"],
        "inbox": ["inbox", "mailbox"], "outlook": ["outlook"], "onprem": ["premises"], "prem": ["premises"],
        "migrate": ["migration", "move"], "migrating": ["migration", "move"], "syncing": ["sync", "synchronization"],
        "deleted": ["delete", "removed"], "crash": ["crash", "stop", "responding"],
        "crashes": ["crash", "stop", "responding"], "freezes": ["hang", "stop", "responding"],
        "frozen": ["hang", "stop", "responding"], "slow": ["slow", "performance"],
    ]

    /// Words that name a product, pointing at the corpus's product names.
    static let productWords: [String: String] = [
        "outlook": "Outlook", "owa": "Outlook", "excel": "Excel", "word": "Word", "powerpoint": "PowerPoint",
        "onenote": "OneNote", "access": "Access", "visio": "Visio", "project": "Project", "teams": "Teams",
        "sharepoint": "SharePoint Online", "spo": "SharePoint Online", "onedrive": "OneDrive", "od4b": "OneDrive",
        "odb": "OneDrive", "skype": "Skype for Business Online", "sfb": "Skype for Business Online",
        "lync": "Skype for Business Online", "viva": "Viva", "glint": "Viva", "yammer": "Viva",
        "exo": "Exchange Online",
        "exchange": "Exchange Online", "hybrid": "Exchange Hybrid", "hcw": "Exchange Hybrid",
        "purview": "Microsoft Purview",
        "ediscovery": "Microsoft Purview", "retention": "Microsoft Purview", "mfa": "Microsoft 365 identity",
        "adfs": "Microsoft 365 identity", "aad": "Microsoft 365 identity", "entra": "Microsoft 365 identity",
    ]
}
