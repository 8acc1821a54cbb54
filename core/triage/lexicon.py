"""Phrase patterns of the red-flag screen ("atoms").

Each atom is a list of regular expressions over the canonical text built by
``text.normalise`` (lower case, one space between tokens, shorthand expanded,
misspellings repaired). ``rules.py`` turns atoms into findings and levels; this
file only says which words mean what, so it is the place to add a phrase.

Macros: ``{g1}``..``{g4}`` allow up to that many extra words (never across
punctuation); ``{cant}`` is any "cannot" form; ``\\w*`` also eats apostrophes.
"""

from __future__ import annotations

import re
from functools import lru_cache

MACROS = {
    "g1": r"(?:[a-z0-9'][^ ]* ){0,1}",
    "g2": r"(?:[a-z0-9'][^ ]* ){0,2}",
    "g3": r"(?:[a-z0-9'][^ ]* ){0,3}",
    "g4": r"(?:[a-z0-9'][^ ]* ){0,4}",
    "cant": r"(?:can't|can not|couldn't|could not|unable to|not able to|barely|hardly)",
    "neg_aux": r"(?:won't|will not|doesn't|does not|isn't|is not|can't|cannot|hasn't|has not|haven't|didn't|not)",
    "body": (
        r"(?:face|cheeks?|chin|jaw\w*|forehead|nose|neck|chest|hands?|arms?|legs?|thighs?|stomach|tummy|belly|"
        r"abdomen|back|scalp|skin|lips?|mouth|eyes?|eyelids?|temples?|hairline|shoulders?|knees?|area|areas|"
        r"spots?|bits?|patch\w*|it|this)"
    ),
    "bad_smell": (
        r"(?:bad|weird|funny|off|foul|gross|awful|strange|rotten|nasty|terrible|horrible|funky|sour|musty|"
        r"fishy|odd|strong|yucky|icky|unpleasant|disgusting|like death|wrong|not right)"
    ),
}

ATOMS: dict[str, list[str]] = {
    # ---------------------------------------------------------------- emergency
    "BREATHING": [
        r"{cant} {g2}(?:breathe|breath|breathing)\w*",
        r"(?:hard|harder|difficult|difficulty|trouble|troubles|struggl\w*|problems?|issues?|hard time|tough|labou?red|"
        r"painful|hurts?) {g2}(?:to |with |when |while )?(?:breathe|breath|breathing)\w*",
        r"(?:short|shortness|shortage) of breath|out of breath|(?:lost|losing) my breath",
        r"(?:breathing|breath|breaths) {g3}(?:hard|difficult|weird|funny|strange|off|heavy|shallow|noisy|raspy|tight|"
        r"bad|labou?red|struggl\w*|rattl\w*|wheez\w*|fast|rapid|short|harder|difficulty|wrong)",
        r"wheez\w*|gasp\w*|chok(?:e|ed|es|ing)|suffocat\w*|airways?|breathless\w*|inhaler",
        r"asthma\w* (?:attack|flare|acting|kicking|playing|is (?:bad|worse|acting|flaring|really))\w*|"
        r"(?<!for my )(?<!for her )(?<!for his )(?<!have )(?<!has )(?<!with )(?<!history of )(?<!i'm )(?<!mild )"
        r"(?<!controlled )asthma\w*",
        r"(?:{cant}|hard to|trouble|struggling to) {g1}get (?:enough |any )?air|getting air in|get air in",
    ],
    "THROAT": [
        r"throat\w* {g3}(?:smaller|narrower|tighter|tight\w*|clos\w*|swell\w*|swollen|thick\w*|narrow\w*|constrict\w*|squeez\w*|blocked)",
        r"(?:tight\w*|clos\w*|swell\w*|swollen) {g2}throat\w*",
        r"(?:lump|something) {g2}(?:stuck )?in {g1}throat",
        r"tongue\w* {g3}(?:swell\w*|swollen|thick\w*|huge|big|fat|puff\w*|numb\w*|tingl\w*|heavy|bigger)",
        r"(?:swollen|swelling|thick|huge|puffy) tongue",
        r"{cant} {g1}swallow\w*",
        r"(?:hard|difficult|difficulty|trouble|struggl\w*|painful|pain|hurts?) {g2}(?:to |when |with )?swallow\w*",
    ],
    "ANAPHYLAXIS": [r"anaphyla\w*|epipen\w*|epi pen\w*|epinephrine|adrenaline (?:shot|pen|injection)"],
    "FAINT": [
        r"(?:passed|pass|passing|past|passes) out",
        r"fainted|fainting|faints|feinted",
        r"(?:feel|feels|felt|feeling|going to|about to|nearly|almost|might|could) {g1}faint",
        r"black(?:ed|ing)? out|blackout|everything went (?:black|dark)|went (?:black|dark|grey|gray|white) and",
        r"collaps\w*|keeled over|went limp",
        r"(?:lost|lose|losing|loss of) consciousness|unconscious\w*|unresponsive|not responding|wouldn't wake",
        r"(?:found|woke up|came to) {g1}(?:me |her |him |myself )?on the (?:floor|ground)",
        r"seizures?|seizing|convuls\w*",
    ],
    "CHEST_PAIN": [
        r"chest(?:'s)? {g2}(?:pains?|pian|hurt\w*|ach\w*|pressure|heavy|heaviness|squeez\w*|crush\w*|stabb\w*)",
        r"(?:pains?|pian|pressure|tightness|heaviness|ache|aching|hurting|squeezing) {g1}in {g1}chest",
        r"(?:heavy|painful) chest|heart attack|cardiac arrest",
    ],
    "CHEST_TIGHT": [r"chest(?:'s)? {g2}tight\w*|tight\w* {g1}(?:in )?{g1}chest|chest tightness"],
    "SELF_HARM": [
        r"(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|off|offing|end|ending) (?:my ?self|myself)",
        r"suicid\w*|self harm\w*|self injur\w*|unalive\w*",
        r"(?:want|wanna|wanted|wanting|going|ready|plan\w*|thinking|think|thought|tempted|wish|wishing|like|rather) "
        r"(?:to |about |of )?(?:die|dying|be dead|end it|end it all|end my life|end things|not be here|"
        r"disappear forever|never wake up|not wake up|not exist|stop existing)",
        r"end(?:ing)? (?:my|it) (?:life|all)|end it all|(?:take|taking) my (?:own )?life",
        r"(?:don't|do not|no longer|never) want to (?:live|be alive|be here|exist|wake up|go on)",
        r"wish (?:i was|i were|i'd|i had|i) (?:dead|never been born|not here|not alive|gone)",
        r"better off (?:dead|without me)|everyone would be better",
        r"no (?:reason|point) (?:to |in |of )?(?:live|living|going on|being alive|life)",
        r"(?:don't|can't|do not|cannot) see the point (?:anymore|any more|of living|in living|of going on|of life)",
        r"(?:can't|cannot|can not) go on|end(?:ing)? things|not worth living|life (?:is not|isn't) worth",
        r"sleep and never wake|never wake up again|overdos\w*|take all my pills|"
        r"took (?:a bunch of|too many|all my|all the|loads of) (?:pills|tablets|meds)",
    ],
    "ER_VISIT": [
        r"(?<!work )(?<!works )(?<!working )(?<!worked )(?<!shift )(?<!shifts )(?<!day )(?<!job )(?<!nurse )"
        r"(?<!doctor )(?<!volunteer )(?:the|to|in|at) (?:er|a&e|emergency room|emergency|hospital|urgent care)|"
        r"ambulance|paramedics?|"
        r"call(?:ed|ing)? 911|911|call(?:ed|ing)? 999",
    ],
    # ------------------------------------------------------------ infection etc
    "PUS": [
        r"pus|pus's|puses|pussing|pussed|pustul\w*|purulent",
        r"(?:yellow\w*|green\w*|white|whitish|cloudy|milky|brown\w*|creamy|thick|gooey|goopy|grey|gray|opaque) "
        r"{g1}(?:stuff|fluid|liquid|goo|gunk|gook|discharge|ooze|oozing|crap|junk|matter|substance|mucus|slime|"
        r"drainage|gel|liquids|fluids|bits)",
        r"(?:yellow\w*|green\w*|white|whitish|cloudy|milky|thick) {g3}(?:coming|came|comes|oozing|leaking|squeez\w*) "
        r"(?:out|from)",
        r"(?:oozing|leaking|weeping|draining|seeping|dripping|coming out|discharg\w*) {g2}(?:yellow\w*|green\w*|"
        r"white|whitish|cloudy|milky|thick|brown\w*)",
        r"goo|gooey|goopy|gunk|gunky|gook|discharge|discharging|discharges|drainage|mucus|slime|slimy",
        r"abscess\w*|(?:a|got|have|has|like|these|two|few|big|huge) boils?|boils? (?:on|under|in)",
        r"(?:pimples?|bumps?|spots?|heads?) (?:with|full of|filled with) (?:pus|white|yellow)",
    ],
    "CRUST": [r"crust\w*|encrust\w*"],
    "SCAB": [r"scab\w*"],
    "YELLOW": [
        r"yellow\w*(?! (?:sunscreen|serum|cream|light|led|tint\w*|toner|concealer|corrector|tinted|bruis\w*))",
        r"golden(?! (?:retriever|doodle|hour|gate|state|ratio|rule|years?))|amber(?! alert)|mustard|honey(?= (?:colou?r\w*|like|looking|look|ish|crust\w*|scab\w*|tint\w*|brown))",
    ],
    "OOZE": [
        r"ooz\w*|weep\w*|seep\w*|leak\w*|(?<!a )(?<!the )(?<!sink )(?<!shower )(?<!unclog )drain\w*(?! (?:cleaner|pipe))",
        r"wet and (?:sticky|oozy|weepy)|sticky (?:fluid|liquid|stuff)|(?:still|always|constantly) wet",
        r"(?:fluid|liquid|liquids|fluids|plasma|water|stuff|something|juice|serum) {g3}(?:coming|comes|came|leaking|"
        r"dripping|running) (?:out|from|off)",
        r"(?:dripping|drips) (?:fluid|liquid|stuff)|clear (?:fluid|liquid)|(?<!drink )(?<!drinking )fluids?",
    ],
    "STREAK": [
        r"streak(?:s|ing|ed)?",
        r"lines? {g3}(?:spread\w*|going (?:up|down|toward\w*|towards)|running|travel\w*|moving|creeping|heading|"
        r"coming (?:up|down|off|out|from))",
    ],
    "RED_LINES": [r"red (?:lines?|tracks?|stripes?|trails?|veins?)|reddish (?:lines?|streaks?)"],
    "TOOL": [r"pen|needles?|needling|device|roller|grid|pattern|stamp|machine|dermapen|skinpen|microneedl\w*"],
    "SPREAD": [
        r"spread\w*|expand\w*|extend\w*|creep\w*|grow(?:ing|s|n)|getting (?:bigger|larger|wider)|(?:bigger|larger|wider) and "
        r"(?:bigger|larger|wider)|moving (?:up|down|out|toward\w*|towards)|travel\w* (?:up|down|to|toward\w*)",
    ],
    "HOT_TOUCH": [
        r"hot (?:to|when i|if i) {g1}touch\w*|red hot|burning hot|boiling hot|radiat\w* heat|heat radiat\w*|"
        r"(?:very|really|super|extremely|so|too) hot to|hot and spreading|hot spots?",
    ],
    "HOT": [
        r"hot(?! (?:water|shower\w*|bath\w*|tub|yoga|weather|days?|outside|out|sauna|drinks?|tea|coffee|tools?|"
        r"stones?|springs?|car|room|climate|summer|temps?|wax|towel|compress|or cold|and cold|then cold|girl))",
        r"heat(?! rash)",
    ],
    "WARM": [r"warm(?:th|ness|er)?(?! (?:water|up|compress|shower|bath|towel))"],
    "SUNBURN": [r"sun ?burn\w*|sunburnt|burn\w* (?:feeling|sensation)|like a (?:mild |bad )?burn"],
    "BURN": [r"burn(?:ing|s|t)?(?! up)|stings? like|on fire|like fire"],
    "FEVER": [
        r"fever(?:ish|s)?(?! blisters?)|febrile|chills|(?:a|the) chill|chilly|shiver\w*|rigou?rs",
        r"burning up|hot and cold|hot then cold|cold sweats?|night sweats|sweats and",
        r"(?:the|a) flu|flu ?like|flu symptoms|flu ?ish|fluey|body aches?|(?:achy|aching|ache|aches|sore) all over",
        r"(?:running|spiked|spiking|got|have|has|had|with|high|spike in) (?:a |my |high )?(?:temp|temperature)\b",
    ],
    "TEMP_WORD": [r"temp|temps|temperature|fever|degrees|thermometer"],
    "SYSTEMIC": [
        r"dizz\w*|light ?headed\w*|woozy|vertigo|nause\w*|queasy|vomit\w*|throw(?:ing)? up|threw up|puk(?:e|ed|ing)",
        r"(?<!skin )(?<!face )(?<!it )(?<!area )(?<!this )(?<!to )(?:feel|feels|feeling|felt) {g1}(?:sick|unwell|ill|rough|"
        r"crappy|like crap|like death|poorly|awful|terrible|horrible)(?! (?:of|about|that|for))",
        r"heart (?:is |keeps )?(?:racing|pounding)|palpitations?|shak(?:y|ing)(?! hands)|trembl\w*",
    ],
    "SMELL": [
        r"smell\w* {g1}(?:{bad_smell}|like)|{bad_smell} (?:smell\w*|odou?r\w*)",
        r"smelly|stink\w*|stank|reek\w*|odou?r(?!less| free)\w*|foul",
        r"(?:it|skin|face|area|cheek|chin|spot|spots|wound|neck|this|jaw|forehead|scalp) {g1}smells?(?! (?:good|nice|"
        r"fine|great|normal|ok|okay|lovely|amazing|like (?:the |my )?(?:serum|cream|product|moisturi\w*|sunscreen)))",
    ],
    "INFECTION": [r"infect(?!ious disease)\w*|infekt\w*|infecton|septic|sepsis|cellulitis|impetigo|staph\w*|mrsa"],
    "COLD_SORE": [
        r"cold sores?|cold soar\w*|fever blisters?|herpe\w*|hsv\w*|(?:lip|mouth) sores?",
        r"sores? (?:on|around|near|by|at|in the corner of) {g1}(?:lips?|mouth|nose)",
        r"(?:tingl\w*|burn\w*) {g2}lips? {g3}(?:bumps?|spots?|sores?)|lips? {g2}tingl\w* {g3}(?:bumps?|spots?|sores?)",
    ],
    "BLISTER": [r"blist\w*|vesicles?|(?:water|fluid|clear) (?:bubbles|bumps|pockets|filled)|bubbl\w* (?:under|on) {g1}skin"],
    "HIVES": [r"hives?|hivey|welts?|wheals?|urticaria"],
    "RASH": [r"rash\w*"],
    "ITCHY_WIDE": [
        r"itch\w* {g3}(?:all over|everywhere|whole body|entire body|spreading)",
        r"(?:itchy|raised|red) (?:bumps|spots|blotch\w*|patches|lumps|welts) {g2}(?:all over|everywhere|spreading)",
        r"(?:raised|itchy) {g1}(?:blotch\w*|patches|splotch\w*)|itchy red (?:bumps|spots|patches)",
    ],
    "ALLERGIC": [
        r"allerg(?:ic|y|ies)\w*|(?:a|bad|severe|weird|strong|terrible) reaction|react\w* badly|"
        r"reaction to|reacting to|reacted to"
    ],
    "SWELL_FAST": [r"(?:face|lips?|mouth|eyes?|eyelids?|cheeks?) {g3}(?:blow\w* up|blew up|balloon\w*)"],
    "FAST": [
        r"fast|quick\w*|rapid\w*|sudden\w*|out of nowhere|within minutes|in minutes|by the minute|every minute|"
        r"in seconds|right away|immediately|instantly|straight away|"
        r"blow\w* up|blew up|balloon\w*"
    ],
    "LIPS": [r"lips?|mouth"],
    "FACE_AREA": [r"face|lips?|mouth|eyes?|eyelids?|cheeks?"],
    # --------------------------------------------------------------- pain
    "PAIN": [
        r"pain(?:s|ful|fully)?|pian|hurt(?:s|ing)?(?! (?:my ?self|myself))|(?<!cold )sore(?:ness)?|"
        r"ach(?:e|es|ing|y)|throb\w*|stabb\w*|agony|agoniz\w*",
    ],
    "SEVERE": [
        r"sever\w*|excruciat\w*|unbearabl\w*|agony|agoniz\w*|terribl\w*|horribl\w*|horrendous|awful|intense\w*|"
        r"extreme\w*|insane\w*|unreal|worst|(?:really|so|very|super|real|too|pretty|that) bad|too much|killing me|"
        r"like hell|like crazy|like mad|throb\w*|stabb\w*|shooting|searing|sharp|so much|a lot of|badly|"
        r"off the charts?|through the roof|out of this world|"
        r"really really|as hell|so so|(?:very|really|extremely|super|so|incredibly) painful|burning off|on fire|"
        r"melting|"
        r"crying|screaming|can barely",
        r"(?:9|10) (?:/ 10|out of 10)|(?:9|10) / 10",
        r"(?:can't|cannot|couldn't) (?:sleep|function|cope|take|bear|stand|handle|work|focus)|"
        r"keeping me (?:up|awake)|kept me (?:up|awake)|woke me up|(?:sleep|sleeping) because of",
        r"(?:painkillers?|pain killers?|paracetamol|tylenol|ibuprofen|advil|panadol|motrin|aleve|meds|medication|"
        r"pills) {g3}(?:not|isn't|aren't|won't|doesn't|don't|didn't|no|nothing) {g1}(?:help\w*|work\w*|touch\w*)",
    ],
    "AGONY": [
        r"excruciat\w*|agony|agoniz\w*|worst pain|(?:8|9|10) (?:/ 10|out of 10)|pain (?:is |level |of |at )?(?:a |an )?(?:8|9|10)"
    ],
    "EXTREME_PAIN": [
        r"excruciat\w*|unbearabl\w*|agony|agoniz\w*|worst pain|(?:9|10) (?:/ 10|out of 10)|killing me",
        r"(?:can't|cannot|couldn't) (?:sleep|function|cope)|(?:sleep|sleeping) because of",
    ],
    # ----------------------------------------------------------- bleeding
    "BLEED": [
        r"bleed\w*(?! disorders?| condition)|bled|(?<!own )(?<!thin my )(?<!thin the )(?<!donate )(?<!donating )"
        r"(?<!give )(?<!giving )(?<!flesh and )(?<!spin my )(?<!spin her )(?<!spin his )(?<!spin your )(?<!spin the )"
        r"blood(?! (?:thinn\w*|thin\w*|clott\w*|pressure|tests?|work|sugar|type|draw\w*|drawn|donation|donor|bank|"
        r"drive|orange|plasma|spun|is slow to clot|clots slowly|disorder\w*|cells?|count|panel|levels?))"
        r"|bloody (?:discharge|fluid|mess|pus|stuff|tissue\w*)",
    ],
    "BLEED_PERSIST": [
        r"(?:bleed\w*|blood\w*) {g4}{neg_aux} {g1}(?:stop\w*|settle\w*|slow\w*)",
        r"{neg_aux} {g1}(?:stop\w*|settle\w*) {g1}(?:bleed\w*|the bleeding)|(?:can't|cannot) stop (?:the )?bleed\w*",
        r"bleed\w* {g2}(?:nonstop|non stop|all (?:night|day|morning|evening)|for (?:hours|ages|an hour)|heavily|"
        r"a lot|lots|so much|everywhere|through|thru|profusely|badly|like crazy|continuously|constantly)",
        r"(?:keeps?|kept|constantly|continuously|nonstop|non stop) {g1}bleed\w*|bled (?:through|thru)",
        r"(?:a lot|lots|so much|tons|loads|pools?|puddles?) of blood|blood {g2}(?:everywhere|dripping|pouring|"
        r"gushing|running down|soak\w*)|(?:gushing|pouring|dripping|soaking) {g2}blood|heavy bleeding",
        r"(?:soak\w*|gone|went|going) through {g3}(?:bandages?|gauze|tissues?|towels?|dressings?|pack)",
        r"bleed\w* {g3}after (?:an|\d+|a few|several|two|three|four|many) (?:hours?|hrs?)",
    ],
    "BLEED_WEAK": [r"(?:still|again|started|starting|restarted) {g1}bleed\w*|bleed\w* {g2}(?:again|still)"],
    "BLEED_MINOR": [
        r"pinpoint\w*|pin point|tiny|little|bit|spots? of|dots? of|specks?|speck\w*|drops?|dotted|few|smear\w*|dried|"
        r"light\w*|slight\w*|minor|spotting|scratch\w*|pinprick\w*|touch",
    ],
    # ----------------------------------------------------------------- eyes
    "EYE_PAIN": [
        r"(?<!under )(?<!around )(?<!below )(?<!near )(?<!under my )(?<!around my )(?<!under the )(?<!around the )"
        r"eye(?:s|ball|balls)?(?:'s)? {g3}(?:pains?|painful|pian|killing|hurt\w*|ach\w*|sore|burn\w*|sting\w*|throb\w*|watering|watery|"
        r"streaming|gritty|scratchy)",
        r"(?:pain|pian|hurts?|hurting|ache|aching|burning|stinging) {g2}(?:in|behind) {g1}eyes?",
        r"(?:sore|painful|burning|stinging) eyes?(?!lids?)",
        r"bloodshot|(?:sensitive|sensitivity) to (?:the )?light|light (?:hurts|sensitivity)|hurts? to (?:look at|open) "
        r"{g1}(?:light|eyes?|lights)|photophobia",
        r"(?:serum|cream|numbing|product|stuff|something|sunscreen) {g2}(?:got |went |get )?in {g1}eyes?",
    ],
    "VISION": [
        r"(?:vision|eyesight|sight) {g3}(?:blur\w*|fuzz\w*|hazy|cloud\w*|double|dark\w*|black|spots|floaters|lost|loss|"
        r"weird|off|chang\w*|bad|worse|dim\w*|flash\w*|gone|blind|strange|funny|distort\w*|wavy|grey|gray|went)",
        r"(?:blur\w*|fuzz\w*|hazy|cloudy|double|lost|loss of|losing|poor|changed|change in|change of|bad|dim|"
        r"distorted) {g1}(?:vision|eyesight|sight)",
        r"{cant} {g1}see(?! (?:any|anything|much|a (?:difference|change)|results?|improvements?|changes?|the "
        r"(?:point|results?|difference|improvement|change|pus|crust|redness)|why|how|what|that|it|them|a lot|where))",
        r"(?:hard|difficult|trouble|struggling) to see|seeing (?:double|spots|stars|flash\w*|floaters|things|blurry|"
        r"blurred|black|dark)|blind\w*|floaters|flashes of light|flashing lights",
        r"(?:things|everything) {g1}(?:look|looks|is|are|went|go|goes) {g1}(?:blurry|blurred|fuzzy|hazy|double|dark)",
        r"(?:blurry|blurred|fuzzy|hazy) (?:eyes?|out of)|eyes? {g2}(?:blurry|blurred|fuzzy|hazy)",
    ],
    # ------------------------------------------------- course of redness/swelling
    "WORSE": [
        r"(?<!results )(?<!result )(?<!results seem )(?<!results are )(?<!results look )(?<!the results )"
        r"wors\w*(?! (?:to|for|if|when|idea|than using|than doing|than going|results?|outcomes?) )",
        r"redder|puffier|more (?:red|swollen|puffy|inflamed|painful|sore|tender|irritated|swelling|redness|itchy)",
        r"(?:hurts?|hurting|painful|sore|red|swollen|puffy|itchy|burning|stinging|throbbing|aching) {g1}more|"
        r"more (?:today|now|tonight|this morning|than (?:yesterday|before|the day before|earlier|this morning|last night))",
        r"doubled|tripled|twice as (?:big|bad|swollen|red|puffy|large)|ballooned|"
        r"went from \w+ to|(?:turned|turning|getting|gone|went|is|looks) (?:angry|angrier|darker red|deeper red)|"
        r"(?<!results )(?<!result )(?:bigger|larger|wider|higher|worse|redder|puffier|angrier|darker red) "
        r"(?:today|now|tonight|this morning|"
        r"than(?! (?:others|other people|most|my friends?|hers|his|theirs|yours|everyone|she did|he did|they did))|"
        r"every|each)|(?:(?<!i )(?<!to )(?<!should i )(?<!can i )increas\w*|intensif\w*|deteriorat\w*|escalat\w*(?! (?:to|this|it|me|my)))|(?:getting|got|gets|grown|growing) (?:bigger|larger|"
        r"redder|more)|(?:went|gone|goes|going|come) (?:back )?up(?! to)",
    ],
    "REDNESS": [
        r"red(?! (?:flags?|wine|light|lights|carpet|velvet|lipstick|dress|bull))|redness|reddish|reddened|"
        r"redden\w*|pink\w*|flush(?:ed|ing)?|tomato|lobster|beet\w*|(?<!anti )inflam\w*|rosy|ruddy|crimson",
    ],
    "SWELLING": [
        r"swell\w*|swollen|puff(?:y|iness|ed|ing)|bloat\w*|o?edema|swole",
        r"(?:lips?|mouth|face|eyes?|eyelids?|tongue) (?:are |is |look |looks |got |getting |went |gone )?(?:huge|"
        r"massive|enormous|giant|fat|puffed up|blown up|twice the size|so big|really big)",
    ],
    "SWELL_SEVERE": [
        r"swollen shut|(?:eyes?|face) {g2}(?:shut|closing|closed)|(?:can't|cannot) open {g1}eyes?",
        r"(?:huge|massive|enormous|giant|extreme\w*|severe\w*) {g1}(?:swell\w*|swollen|puff\w*)",
        r"(?:swell\w*|swollen|puff\w*) {g2}(?:huge|massive|enormous|twice the size|balloon\w*)|twice the size",
    ],
    # a comparison over time ("than yesterday", "overnight"); with no word of improvement it means worse
    "CHANGE_CUE": [
        r"than (?:yesterday|before|this morning|last night|earlier|the day before)|overnight|day by day|"
        r"each day|every day|by the hour|every hour|hour by hour"
    ],
    "IMPROVING": [
        r"down|less|better|smaller|fad\w*|improv\w*|reduc\w*|calm\w*|settl\w*|subsid\w*|lighter|healing|"
        r"gone|going away|clearing"
    ],
    "MILD": [r"slight\w*|little|bit|mild\w*|tiny|minor|barely|somewhat|kinda|kind of"],
    "TIGHT": [r"tight\w*|taut|stretched|stiff\w*"],
    "SENSITIVE": [r"sensitiv\w*|tingl\w*|sting\w*|raw|irritat\w*|prickl\w*|tender\w*"],
    "FLAKING": [
        r"flak\w*|(?<!chemical )(?<!a )peel\w*|(?<!pat )(?<!air )(?<!blow )dry(?:ing|ness)?(?! (?:brush\w*|off))|"
        r"dried out|shedding|shed\w*|scal(?:y|ing)|rough(?:ness)?|crack(?:ed|ing)|chapp\w*",
    ],
    "ITCH": [r"itch\w*|scratch(?:y|ing)|prickly"],
    "BREAKOUT": [
        r"break ?outs?|breaking out|broke(?:n)? out(?! in (?:hives|a rash|rash|welts|blisters|a sweat))",
        r"pimpl\w*|zits?|(?:spots?|pimples?) (?:popping|coming) up|(?:new|more) spots|whiteheads?|blackheads?",
        r"acne (?:flare\w*|is worse|breakout|came back|coming back|is back|getting worse)|(?:acne|spots) flar\w*|"
        r"purg\w*",
    ],
    "PIGMENT": [
        r"(?:dark|darker|brown\w*|black|grey|gray|white|whit\w*|light|lighter|pale|purple|blue|bluish) {g1}"
        r"(?:spots?|patch\w*|marks?|areas?|blotch\w*|splotch\w*|discolou?r\w*|pigment\w*)",
        r"darken\w*|darker(?! (?:skin|skinned|complexion|tones?))|lighter (?:in|than)|hyper ?pigment\w*|"
        r"hypo ?pigment\w*|pigment\w*|discolou?r\w*|melasma|blotch\w*|splotch\w*|patchy",
        r"uneven (?:skin )?(?:tone|colou?r)|skin tone {g2}(?:uneven|patchy|blotchy|darker|lighter|different)",
        r"(?:colou?r|tone) chang\w*|chang\w* (?:colou?r|tone)|(?:turned|turning|gone|went|looks?) {g1}(?:dark|darker|"
        r"brown|grey|gray|white|purple|black|blue)",
        r"bruis\w*|purple",
    ],
    "PIGMENT_FAQ_NOUN": [
        r"(?:dark|darker|brown|black|olive|deep|fair|light|pale) (?:skin|skinned|complexion)|"
        r"skin of colou?r|sun spots?|age spots?|dark circles|dark spot (?:serum|cream|corrector|treatment)|"
        r"(?:brown|dark) spots? from (?:the sun|acne|pimples|years)|sun damage"
    ],
    "TEXTURE": [
        r"bump(?:s|y)?|lump(?:s|y)?|nodul\w*|knots?|cysts?|cystic|milia|granulom\w*",
        r"(?:hard|raised|firm) (?:spots?|areas?|patch\w*|bits?|lines?|marks?)",
        r"track ?marks?|tracks|(?:needle|pen|grid|roller|device|stamp|dot|dotted) (?:marks?|lines?|pattern|holes|dots)"
        r"|(?:pattern|marks|lines|imprint|print) (?:of|from) (?:the )?(?:needles?|pen|device|roller|stamp)"
        r"|grid",
        r"lines? (?:from|where|of) {g1}(?:pen|needles?|device|roller|treatment|microneedl\w*|machine|it went)",
        r"(?:lines?|marks) {g4}(?:since|after|from) (?:the |my )?(?:treatment|session|microneedl\w*|pen|needles?|"
        r"procedure|appointment)|new lines",
        r"(?:visible|straight|little|tiny|thin|white|raised|faint|grid) lines|marks (?:from|where) {g1}(?:pen|needles?|"
        r"device|roller|treatment|microneedl\w*|it went)",
        r"scar|scars|scarring|scarred|pits?(?! stop)|pitted|pitting|indent\w*|holes|dents?|divots?",
        r"texture {g2}(?:worse|weird|bumpy|uneven|rough|changed|different)",
    ],
    "TEXTURE_FAQ_NOUN": [
        r"(?:acne|pimple|chickenpox|chicken pox|surgical|surgery|c section|old|teenage|deep|ice ?pick|boxcar|rolling|"
        r"pitted|atrophic) (?:scars?|scarring)|acne scarring|scarring from acne|stretch marks?|fine lines|wrinkles|"
        r"smile lines|frown lines|old scars?|scars? from (?:acne|pimples|my teens|high school|years ago|when i was)"
    ],
    "OTHER_BODY": [r"head ?aches?|migraines?|(?:my )?head (?:hurts|is pounding|is killing me)"],
    "GLANDS": [
        r"(?:glands?|lymph nodes?|nodes) {g3}(?:swell\w*|swollen|up|sore|tender|hard|lumps?)|"
        r"(?:swollen|tender|sore) (?:glands?|lymph nodes?)"
    ],
    "NUMB": [r"numb(?:ness)?(?! (?:cream|gel|stuff))|no feeling|(?:can't|cannot) feel (?:my|the|anything)"],
    "WOUND": [r"open (?:wounds?|sores?)|wounds?|(?<!cold )sores|ulcer\w*|raw (?:spots?|patches|areas?)"],
    "UNPLACED": [
        r"weird\w*|strange\w*|odd|unusual\w*|abnormal\w*|not (?:normal|right)|wrong|funny looking|off colou?r|"
        r"(?:looks?|looking|feels?|feeling|seems?) {g1}off|"
        r"(?:doesn't|does not|don't|do not) (?:look|feel|seem) (?:right|normal)",
    ],
    "BODY": [r"{body}"],
    # alarm with nothing placeable: staff should look ("something is really wrong with my face")
    "ALARM": [
        r"(?:something|it|this|things?) (?:is |feels |seems |looks |'s )?(?:really |very |seriously |definitely )?"
        r"(?:wrong|not right|not ok|not okay)|(?:freaking|freaked) out|panick\w*|(?:is|this|it) (?:an )?emergency"
    ],
    "SENSATION": [r"sensations?|feelings?|looks?|feels?|appearance|texture"],
    "SKIN_CONTEXT": [r"skin|red\w*|pink\w*|dry\w*|flak\w*|peel\w*|treated|sunburn\w*|warm\w*|itch\w*|where they"],
    "PRODUCT": [r"serum|cream|sunscreen|spf|moistur\w*|lotion|products?|makeup|foundation|gel|oil|cleanser|mask"],
}

# Sentence-level frames (checked on one sentence of canonical text).
FRAMES: dict[str, str] = {
    # generic questions about risks, causes and prevention: not a report of a symptom
    "GENERIC": (
        r"\b(?:microneedling|it|they|rollers?|needles?|the (?:treatment|procedure|needles?|rollers?)) (?:can|could|may|"
        r"might|will|does|do|sometimes|often) (?:also |sometimes |ever )?(?:cause|causes|lead|leave|trigger|give|result)"
        r"|\b(?:can|could|does|do|will|would|might|may|did) (?:\w+ ){0,3}(?:cause|causes|lead to|trigger|result in)\b"
        r"|\b(?:people|patients|clients|anyone|others|someone|some people|most people) (?:ever )?(?:get|gets|got|have|"
        r"had|experience|develop)\b|\bhow (?:common|often|likely|rare)\b|\bis (?:it|that) (?:common|rare)\b"
        r"|\b(?:can|could|does|do|will|would|might|may|did) (?:microneedling|it|this|that|they|you|people|"
        r"(?:the )?(?:treatment|procedure|session|needles?|pen|device|rollers?|dermarollers?)|"
        r"(?:at )?home (?:rollers?|pens?|devices?)|derma rollers?|at home rollers?) (?:ever |also |sometimes |usually )?"
        r"(?:cause|causes|give|lead|leave|trigger|make|result|bleed|scar|spread|get)"
        r"|\b(?:risks?|chances?|likelihood|dangers?) (?:of|for)\b|\b(?:what|which|any|the) (?:are )?(?:the )?"
        r"(?:signs?|symptoms?) (?:of|for)\b|\b(?:prevent\w*|avoid\w*|reduce|lower|minimi[sz]e)\b"
        r"|worse before (?:it )?(?:gets? )?better|side effects|complications"
        r"|\b(?:how|when) (?:do|would|will|can) (?:i|you) (?:know|tell)\b"
        r"|\bwhat (?:does|do|would|should|might) (?:a |an )?(?:[a-z']+ ){1,3}look like\b"
        r"|\b(?:scared|afraid|worried|nervous|concerned|paranoid) (?:of|about) (?:getting|developing|having|catching)\b"
        r"|\bwill i (?:get|have|develop|end up with)\b"
    ),
    # pre-treatment candidacy questions ("can I get it if I'm prone to cold sores")
    "CANDIDACY": (
        r"\b(?:can|could|should|may) i (?:still )?(?:get|have|do|book|come|go ahead)\b"
        r"|\b(?:am i|is it ok|is it okay|is it safe|is it fine|ok|okay|safe) (?:a |to |for me to |for me )?"
        r"(?:good )?(?:candidate|get|have|do|book)\b|\bprone to\b|\bhistory of\b|\bsusceptible to\b"
        r"|\b(?:usually|often|sometimes|always|tend to|regularly|occasionally) get\b|\bsuffer (?:from|with)\b"
        r"|\bbefore (?:my|the|an|your|a) (?:appointment|treatment|session|procedure)\b|\bif i\b|\bwhat if\b"
        r"|\bin case\b|\b(?:i'm|am|i am) allergic to\b|\beasily\b"
        r"|\bfrom getting (?:needled|treated|it done|microneedl\w*)\b|\bstill (?:do it|be treated|get needled)\b"
    ),
    # future / generic questions about expected effects ("how long will the redness last")
    "EXPECT_Q": (
        r"^(?:(?:and|so|also|ok|okay|hi|hey|quick question|question|q) )*(?:will|would|does|do|how long|how much|"
        r"when|what|should|is there|are there|can i expect|how (?:red|swollen|bad))\b"
    ),
    # questions about whether the treatment itself hurts ("does it hurt", "is microneedling painful")
    "PAIN_FAQ": (
        r"^(?=.*\b(?:hurt|hurts|pain|painful|sore)\b)(?:(?:and|so|also|ok|okay|hi|hey) )*(?:does|do|will|would|"
        r"how (?:much|bad|painful)|is (?:it|microneedling|the treatment|the procedure) (?:painful|going to hurt|sore))"
    ),
    # markers that a sentence reports something happening now
    "REPORT": (
        r"\b(?:i have|i've got|i got|ive got|i've|i'm getting|i am getting|got a|there's|there is|there are|"
        r"my (?:\w+ )?(?:is|are|has|have|looks?|feels?|seems?|got|keeps?)|right now|"
        r"currently|started|starting|came up|coming up|woke up|noticed|i think|looks like|it's|its|it is|i'm having|"
        r"i'm seeing|i'm noticing|i'm in)\b"
        r"|^(?:[a-z']+ ){0,2}(?:is|could|might|can) (?:this|that|it) be\b|^(?:[a-z']+ ){0,2}(?:is|are) (?:this|that|these)\b"
    ),
    "TREATMENT_TARGET": (
        r"\b(?:help\w*|fade|fading|improve\w*|treat|treats|treating|work(?:s)? (?:on|for)|get rid of|reduc\w*|"
        r"lighten\w*|good for|target\w*|remov\w*|fix|erase|smooth\w*|fill\w*|minimi\w*|diminish|results?|"
        r"effective|shrink|cause|causes)\b"
    ),
    # a condition the patient is prone to, had before, or gets now and then ("i get cold sores a few times
    # a year", "history of herpes"): a candidacy question, not a sore that is there now
    "HABITUAL": (
        r"\b(?:usually |often |always |sometimes |tend to )?(?:get|gets|have|has|had) (?:\w+ ){0,5}"
        r"(?:a few times|a couple of times|couple times|once in a while|now and then|on and off|times a|every time|whenever|when(?:ever)? (?:i'm|im|i am|i get|stressed)|often|a lot|alot|"
        r"all the time|frequently|sometimes|regularly|occasionally|in the past|as a kid|every (?:year|winter|summer))\b"
        r"|\bprone\b|\bhistory\b|\bsusceptible\b|\bused to get\b|\bever had\b|\bbreak out in\b"
    ),
    # an allergy the patient has (a question about a product or the numbing cream), not a reaction now
    "ALLERGY_HISTORY": (
        r"\b(?:i'm|im|i am|am|she's|he's|i'm very|i'm super|i'm really) allergic\b(?! reaction| to (?:the|it|something|this|that|your|what))"
        r"|\ballergic to (?!the |it |something|this|that|your|what)"
        r"|\b(?:a lot of|lots of|several|many|multiple|known|documented|food|drug|seasonal|bad|severe) allergies\b"
        r"|\b(?:i have|i've got|have|with) allergies\b|\ballerg\w* (?:test\w*|history|list|card|bracelet|panel)\b"
        r"|\b\w*caine allergy\b|\breact\w* badly to \w*(?:caine|numbing|latex|penicillin|nickel|adhesive)"
    ),
    # a question about what the treatment will do ("will it darken my skin", "am i gonna end up patchy")
    "FUTURE_Q": (
        r"\b(?:will|would|could|can|does|do|might) (?:it|this|that|microneedling|skinpen|the (?:treatment|procedure|needles?|"
        r"pen)|my skin|brown skin|dark skin|black skin|darker skin|skin like mine|i|my \w+) (?:\w+ ){0,3}"
        r"(?:darken|discolou?r|leave|cause|give|make|get|go|end up|turn|help|scar|mark|mess)\w*"
        r"|\b(?:will|would|could|might) (?:\w+ ){1,3}(?:darken|discolou?r|leave|cause|give|make|turn|scar|mess)\w*"
        r"|\b(?:am i|is it|are they) (?:gonna|going to)\b|\bshould i (?:worry|be worried|be nervous|be concerned)\b"
        r"|\b(?:any|the|what) (?:\w+ )?risks?\b|\bhow many (?:sessions|treatments|appointments|visits|trips|rounds)\b"
        r"|\bwhen will i see\b|\b(?:go|goes) away\b|\bget better\b|\bstay (?:better|away|gone)\b|\bcome back\b"
        r"|\bcreep back\b|\bdoes (?:it|microneedling) (?:do anything|work)\b"
    ),
    "REPORT_NEW": (
        r"\b(?:new|appeared|noticed|since (?:the|my)|after (?:the|my|microneedling|treatment|it)|from the|"
        r"wasn't there|weren't there|weren't|wasn't|now|still)\b"
    ),
}


def _expand(p: str) -> str:
    for k, v in MACROS.items():
        p = p.replace("{" + k + "}", v)
    return p.replace(r"\w*", r"[\w']*")


@lru_cache(maxsize=1)
def compiled_atoms() -> dict[str, re.Pattern[str]]:
    """Each atom as one compiled regex that only matches whole tokens (English and Spanish patterns)."""
    from .lexicon_es import ATOMS_ES

    unknown = set(ATOMS_ES) - set(ATOMS)
    if unknown:
        raise ValueError(f"lexicon_es.py names atoms that lexicon.py does not have: {sorted(unknown)}")
    out: dict[str, re.Pattern[str]] = {}
    for name, english in ATOMS.items():
        pats = english + ATOMS_ES.get(name, [])
        body = "|".join(f"(?:{_expand(p)})" for p in pats)
        out[name] = re.compile(rf"(?<= )(?:{body})(?= )")
    return out


@lru_cache(maxsize=1)
def compiled_frames() -> dict[str, re.Pattern[str]]:
    from .lexicon_es import FRAMES_ES

    return {k: re.compile(_expand(v + ("|" + FRAMES_ES[k] if k in FRAMES_ES else ""))) for k, v in FRAMES.items()}
