"""Word-level vocabulary of the screen: shorthand, known misspellings, spelling targets.

Kept apart from the phrase patterns (``lexicon.py``) so a clinician or support
person can add a patient's spelling of a word without touching a regex.
"""

from __future__ import annotations

# Texting shorthand and apostrophe-less contractions -> canonical words.
# A value may hold several words ("rn" -> "right now").
SHORTHAND: dict[str, str] = {
    "u": "you", "ur": "your", "r": "are", "y": "why", "n": "and", "rn": "right now",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmrrw": "tomorrow", "tomoz": "tomorrow", "2moro": "tomorrow",
    "2morrow": "tomorrow", "tmw": "tomorrow", "2day": "today", "tdy": "today", "tonite": "tonight", "2nite": "tonight",
    "yday": "yesterday", "yest": "yesterday", "ystrdy": "yesterday", "lil": "little", "abt": "about",
    "bc": "because", "cuz": "because", "coz": "because", "cos": "because", "b4": "before", "pls": "please",
    "plz": "please", "thx": "thanks", "ty": "thanks", "idk": "i don't know", "dunno": "don't know",
    "ngl": "honestly", "tbh": "honestly", "imo": "i think", "omg": "oh my god", "wanna": "want to",
    "gonna": "going to", "gunna": "going to", "tho": "though", "thru": "through", "rly": "really",
    "realy": "really", "prolly": "probably", "hrs": "hours", "hr": "hour", "mins": "minutes", "min": "minutes",
    "wk": "week", "wks": "weeks", "wkend": "weekend", "ppl": "people", "sm": "so much", "sth": "something",
    "smth": "something", "nvm": "never mind", "dr": "doctor", "w": "with",
    "wo": "without",
    # contractions typed without the apostrophe
    "cant": "can't", "cnt": "can't", "cannot": "can't", "wont": "won't", "dont": "don't", "didnt": "didn't",
    "doesnt": "doesn't", "isnt": "isn't", "arent": "aren't", "wasnt": "wasn't", "werent": "weren't",
    "hasnt": "hasn't", "havent": "haven't", "hadnt": "hadn't", "shouldnt": "shouldn't", "couldnt": "couldn't",
    "wouldnt": "wouldn't", "aint": "ain't", "im": "i'm", "ive": "i've", "id": "i'd", "ill": "i'll",
    "theres": "there's", "thats": "that's", "whats": "what's", "hows": "how's", "shes": "she's",
    "hes": "he's", "youre": "you're", "theyre": "they're", "itll": "it'll",
    # run-together words
    "coldsore": "cold sore", "coldsores": "cold sores", "coldsor": "cold sore", "feverblister": "fever blister",
    "feverblisters": "fever blisters", "redlines": "red lines", "redline": "red line", "redstreaks": "red streaks",
    "cantbreathe": "can't breathe", "cantbreath": "can't breathe", "selfharm": "self harm", "epi-pen": "epipen",
    "hottotouch": "hot to touch", "passedout": "passed out", "blackedout": "blacked out",
    "kms": "kill myself", "sucidal": "suicidal",
    "killmyself": "kill myself", "nosebleed": "nose bleeding", "nosebleeds": "nose bleeding", "wanttodie": "want to die",
}

# Spellings patients use that a general edit-distance rule would miss or that are
# also real English words (so the fuzzy matcher would leave them alone).
VARIANTS: dict[str, str] = {
    "puss": "pus", "pusy": "pus", "pussy": "pus", "pusey": "pus", "pusss": "pus", "puse": "pus",
    "krusty": "crusty", "krust": "crust", "crusties": "crusty",
    "swole": "swollen", "sollen": "swollen", "swolled": "swollen", "swolean": "swollen", "swelled": "swollen",
    "feinted": "fainted", "feint": "faint", "fainty": "faint",
    "breth": "breathe", "brethe": "breathe", "breathin": "breathing",
    "pian": "pain", "pai": "pain", "paine": "pain", "painn": "pain", "paiin": "pain",
    "hivez": "hives", "hivs": "hives", "hivess": "hives",
    "rsh": "rash", "rashs": "rashes",
    "ooz": "ooze", "oozie": "oozy", "oozey": "oozy",
    "fevr": "fever", "fver": "fever", "feaver": "fever", "fevah": "fever", "fevers": "fever",
    "tounge": "tongue", "tonge": "tongue", "toung": "tongue", "tung": "tongue",
    "thraot": "throat", "throught": "throat", "throt": "throat", "troat": "throat",
    "chils": "chills", "chillls": "chills", "shivvering": "shivering",
    "soar": "sore", "soars": "sores", "soare": "sore",
    "bleedin": "bleeding", "bleading": "bleeding", "bleeeding": "bleeding", "bleding": "bleeding",
    "oozin": "oozing", "itchin": "itching", "swellin": "swelling", "hurtin": "hurting", "achin": "aching",
    "peelin": "peeling", "flakin": "flaking", "burnin": "burning", "throbbin": "throbbing", "weepin": "weeping",
    "leakin": "leaking", "crustin": "crusting", "bleedn": "bleeding",
    "ithcy": "itchy", "itchey": "itchy", "itcy": "itchy", "ichy": "itchy", "iching": "itching",
    "vison": "vision", "visoin": "vision", "blury": "blurry", "blurrey": "blurry", "blurr": "blurry",
    "smels": "smells", "smellz": "smells", "stinkz": "stinks",
    "infecshun": "infection", "infekted": "infected", "infekshun": "infection",
    "infeccion": "infection", "infec": "infection",
    "herpies": "herpes", "herps": "herpes",
    "yelow": "yellow", "yello": "yellow", "yellowy": "yellowish", "yellowey": "yellowish", "yelowish": "yellowish",
    "goldish": "golden",
    "redish": "reddish", "redd": "red", "reddd": "red",
    "wheezin": "wheezing", "weezing": "wheezing", "weezy": "wheezy", "wheazing": "wheezing",
    "dizzey": "dizzy", "dizy": "dizzy", "lightheaded": "light headed",
    "suicde": "suicide", "suiside": "suicide", "sucide": "suicide", "suicidle": "suicidal",
    "anaphalaxis": "anaphylaxis", "anafalactic": "anaphylactic",
    "allergick": "allergic", "alergic": "allergic", "alergy": "allergy",
    "discharg": "discharge", "dischage": "discharge",
    "sevear": "severe", "sever": "severe", "severly": "severely", "throte": "throat", "throats": "throat",
    "sufocating": "suffocating", "sufficating": "suffocating", "unconcious": "unconscious",
    "painfull": "painful", "paineful": "painful", "flakey": "flaky", "stoppin": "stopping",
}

# Words the fuzzy matcher may correct a misspelling to. Short words (< 5 letters)
# are only reached through SHORTHAND / VARIANTS above.
SPELLING_TARGETS: tuple[str, ...] = (
    "swollen", "swelling", "puffy", "puffiness", "infected", "infection", "infections", "bleeding", "bleeds",
    "breathe", "breathing", "blister", "blisters", "blistering", "crusty", "crusting", "crusted", "crusts",
    "fever", "feverish", "chills", "throat", "tongue", "oozing", "oozes", "weeping", "fainted", "fainting",
    "dizzy", "dizziness", "vision", "blurry", "blurred", "streak", "streaks", "streaking", "spreading",
    "itchy", "itching", "itchiness", "pigment", "pigmentation", "hyperpigmentation", "discoloration",
    "discolouration", "scarring", "bumps", "lumps", "worse", "worsening", "painful", "severe", "severely",
    "allergic", "reaction", "wheezing", "swallow", "swallowing", "suicide", "suicidal", "unconscious",
    "collapsed", "discharge", "yellow", "yellowish", "smell", "smells", "smelly", "stinks", "stinky",
    "throbbing", "excruciating", "unbearable", "redness", "peeling", "flaking", "flaky", "tightness",
    "sensitive", "sensitivity", "breakout", "breakouts", "pimples", "pustules", "herpes", "welts", "chest",
    "temperature", "shivering", "nauseous", "nausea", "vomiting", "eyesight", "consciousness",
    "anaphylaxis", "anaphylactic", "epipen", "inflamed", "inflammation", "abscess", "impetigo", "tender",
    "stinging", "burning", "bruise", "bruising", "bruised", "tingling", "hurting", "hurts", "aching",
    "honey", "golden", "scabs", "scabbing", "patches", "darker", "pinpoint", "blood", "bloody", "stopping",
    "blotchy", "blotches", "rashes", "swallowing", "breathless", "wheezy", "passed", "blacked", "leaking",
    "seeping", "draining", "weepy", "oozing", "crusty", "pustule", "bleed", "fainted", "faint", "odour", "odor",
    "scratchy", "lumpy", "bumpy", "scars", "scarred", "infect", "feverish",
)
