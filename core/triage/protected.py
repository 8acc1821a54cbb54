"""Real English words that sit one or two typos from a screen word (generated, do not edit by hand).

The fuzzy matcher in text.py repairs unknown words towards vocab.SPELLING_TARGETS. So that it never
"repairs" a real word ("never" -> "fever", "feeling" -> "peeling"), every word of the 150,000 most
frequent English words (wordfreq 3.1) that the matcher would change, and that an English dictionary
(english-words: web2 + gcide, with inflections) or the top 20,000 confirms is a word, is listed here.
TYPOS lists keyboard slips of short symptom words (pus, rash, hives...) that are not English words.
Regenerate after changing SPELLING_TARGETS (the generator only needs those two PyPI packages at
development time; the screen itself stays stdlib-only). A symptom spelling belongs in vocab.VARIANTS.
"""

PROTECTED: frozenset[str] = frozenset(
    """
    abscessed abscesses achingly acing acting alister allergan allergen allergenic allergies allergist
    arching backed baluster balusters banister banisters barker bashes batches beaching bellow bender
    berating berthing bitching bittering blacken blackened blacker blackest blackhead blackleg blanched
    blanding blanked blaster blasters bleached bleaches bleaching bled blee bleeders bleep bleeping
    bleeps blend blending blends blessing blinders blinding blinkers blistered blisteringly blithering
    blocked blond bloodily bloods bloom bloop blotch blotched blotters blued bluray blurring blurted
    blurting bluster blustering blustery bolden bolstering bolsters boosters boozing botches braiding
    braise braised braising breached breaches breaching breaking breakups breath breathed breather
    breathers breathes breathlessly breaths breathy breed breeding breeds breezing britches broaches
    broaching broiling brooches brood broody browsing bruiser bruisers bruises bruning brushing bums
    bunning bunnings burbling burdening burgling buring burling burnings burping burps burry bursting
    burying caching cashes catches cest cheat chert ches chess chests chesty chet childs chiles chilis
    chill chilla chillers chillest chilli chillies chillis chilly coasting collaged collapse collapses
    collared collated consciousnesses counting courting crafting crashes crashing creating crest
    crested cresting crests cristina crofting crossing crostini cruise cruised cruising crusading
    crushed crushing crust curating danker darken darter dashes defining demining derailing detaining
    dimples dirtiness discharged discharges ditching divining dozing drafting dragging drawling
    drinking drowning durning dwelling etching excruciatingly fain fainter faintest faints faking fant
    faulting feder feeling fellow fender feuer feverishly fewer figment fiver flagging flailing flak
    flake flaming flamingo flanking flapping flaring flashing flaunted flaunting flay flaying flicking
    flinging flint flirting flitting floating flocking flunking flurry foisting fracking franking
    freaking freakout fringing fronting gainful gashes gassed gender golde goldens golder goldin
    graining gulden gurning harker harting harts hashes hatches haunting heeling herbes heres hermes
    heroes herts hitching hokey holden holey homey hone honed hones honeys honky hooey hunting hunts
    hurdling hurling hurls hurrying hurst hurt hurtling hurty hustings hustling huts hutts inaction
    inactions inception inching indebted indented indicted inducted induction inductions infarction
    infecting infectious infective infects inferred infest infested inflame inflames inflammations
    inflated inflates inflation inflect inflected inflection inflections inflicted infliction informed
    infraction infractions infrared ingested ingestion inject injected injection injections insect
    inserted insertion insertions inspected inspection inspections intention intentions invented
    invention inventions inverted invested itch jingling keeling kitching lacked lamps lashes latches
    leaching leading leafing leaning leanings leaping learning leasing leaving leavings lender
    lightness limps lister listers longue lums marker mashes massed matches mellow mender mingling
    nauseam ooze oozed painfully painted painting paneling parker parsed passe passer passes passwd
    pasted pastures patched patcher paused peaking pealing pearling pedaling peddling peeing peeking
    peelings peening peeping peering pelling pender peopling petaling pigmented pigments pimple
    pinpointed pinpoints pissed pistoles pitchers pitches pitching postures preening puff puffs
    pustular radishes raining rashed rasher rashers rashness reacting reactions reactive readiness
    realness redaction redactions rednecks redress reduction reeling refraction rehashes rejection
    relation render resection retraction revere rightness ringling rudeness rushes rusted rusting sabs
    sainted sallow sarker sars sashes scab scar scare scared scares scarf scarfed scarfing scarfs
    scaring scarp scarps scart scary schelling scooping scorning scouring scrabbling scraping scratch
    scratched scratcher scratches screechy scribing scrubbing sculling scurried scurrying sears
    seceding securely seeding seedings seeing seeking seeming seething sell selling sells selly sender
    sensibility sensitively sensitize sensitized serenading serenely severally severed severest
    severity severn severs shallow shallows sharking sheeting shell shelling shells shelly shelving
    shilling shills shimmering shinning shipping shopping shoveling showering shredding shriveling
    simples singeing singing singling sinks skell skelly skilling skinks skinning skipping slabs
    slacked slaking slanging slapping slavering sleeping sleeving slinging slinking slinks slinky
    slipping slopping slurred slurring slurry small smalling smalls smarting smelling smelt smelting
    snapping snarling sneaking sneering sneezing snell snelling snipping sniveling snooping snubbing
    sopping spalling sparking sparling sparred sparring spars spearing spedding spell spelling
    spellings spells spending sperling spilling spinks spinning sponging spraying springing spurring
    squeaking stabbing stabbings stabling stabs staining stalling stamping standing stanning stapling
    starling starred starring stars starting starving steak steaks steaming steeping steering stell
    stelling stenting stepping sterling sticking sticks sticky stiffing stifling stings stingy stink
    stinkers stinking stints stippling stirling stocking stollen stomping stooping stoping storming
    strafing strapping straying streaked streaker streaky stream streaming streams stressing stretchy
    striking stringing striping stripping stroking stubbing stumping stunning stunting subtidal
    suicidally suicided suicides swabbing swabs swallowed swallower swallows swapping swarming swearing
    sweating sweeping swell swellings swells swerving swigging swilling swinging swirling swiveling
    swivelling swooping tainted tainting tangling tedder temperate temperatures tended tendered
    tenderer tenderly tenders tener tenner tenser threat throated throating throaty thrombin thronging
    throwing tickling tightens tightest tinder tinkling toggling tongued tongues tonguing topping
    training trashes trendier trusted trusting trusts trusty turning twinkling unbearably unbeatable
    unbreakable unconsciously unreadable vender virion visioned visions visiting wallow wallowing
    washes watches weeding weedy weening weeny weep weeps welds welling wells wels welt wests wets
    wheeling wheely wheeze whelming whizzing wilts witching wore worsen worser worst yellowed yellowing
    yellows
    """.split()
)

# Keyboard slips of short symptom words that are not English words themselves (generated).
TYPOS: dict[str, str] = {
    "afint": "faint",
    "apin": "pain",
    "arsh": "rash",
    "bblood": "blood",
    "bkood": "blood",
    "bliod": "blood",
    "bllood": "blood",
    "blod": "blood",
    "blodo": "blood",
    "bloid": "blood",
    "bloodd": "blood",
    "bloof": "blood",
    "bloood": "blood",
    "bloos": "blood",
    "blopd": "blood",
    "blpod": "blood",
    "bolod": "blood",
    "bood": "blood",
    "cchills": "chills",
    "ccrust": "crust",
    "ceust": "crust",
    "cgills": "chills",
    "chhills": "chills",
    "chiills": "chills",
    "chikls": "chills",
    "chilks": "chills",
    "chilld": "chills",
    "chillss": "chills",
    "chilsl": "chills",
    "chlils": "chills",
    "chlls": "chills",
    "cholls": "chills",
    "chulls": "chills",
    "cihlls": "chills",
    "cills": "chills",
    "cjills": "chills",
    "crrust": "crust",
    "crst": "crust",
    "crsut": "crust",
    "cruat": "crust",
    "crudt": "crust",
    "crusr": "crust",
    "crusst": "crust",
    "crustt": "crust",
    "crusy": "crust",
    "crut": "crust",
    "cruts": "crust",
    "cruust": "crust",
    "cryst": "crust",
    "csab": "scab",
    "ctust": "crust",
    "curst": "crust",
    "daint": "faint",
    "dcab": "scab",
    "eash": "rash",
    "eelts": "welts",
    "efver": "fever",
    "elts": "welts",
    "ewlts": "welts",
    "faaint": "faint",
    "faibt": "faint",
    "faiint": "faint",
    "faimt": "faint",
    "fainnt": "faint",
    "fainr": "faint",
    "faintt": "faint",
    "fainy": "faint",
    "faitn": "faint",
    "fanit": "faint",
    "faont": "faint",
    "faunt": "faint",
    "feber": "fever",
    "fecer": "fever",
    "feer": "fever",
    "feever": "fever",
    "feevr": "fever",
    "feve": "fever",
    "fevee": "fever",
    "feveer": "fever",
    "feverr": "fever",
    "fevet": "fever",
    "fevrr": "fever",
    "fevver": "fever",
    "fevwr": "fever",
    "ffaint": "faint",
    "ffever": "fever",
    "fiant": "faint",
    "fint": "faint",
    "frver": "fever",
    "fsint": "faint",
    "fveer": "fever",
    "fwver": "fever",
    "gaint": "faint",
    "gever": "fever",
    "hcills": "chills",
    "hhives": "hives",
    "hibes": "hives",
    "hices": "hives",
    "hies": "hives",
    "hievs": "hives",
    "hiives": "hives",
    "hivea": "hives",
    "hived": "hives",
    "hivees": "hives",
    "hivrs": "hives",
    "hivse": "hives",
    "hivves": "hives",
    "hivws": "hives",
    "hoves": "hives",
    "hroat": "throat",
    "htroat": "throat",
    "huves": "hives",
    "hves": "hives",
    "hvies": "hives",
    "icthy": "itchy",
    "ihves": "hives",
    "iitchy": "itchy",
    "ioze": "ooze",
    "irchy": "itchy",
    "itcchy": "itchy",
    "itcgy": "itchy",
    "itchhy": "itchy",
    "itcht": "itchy",
    "itchu": "itchy",
    "itchyy": "itchy",
    "itcjy": "itchy",
    "itcyh": "itchy",
    "ithy": "itchy",
    "ittchy": "itchy",
    "itvhy": "itchy",
    "itxhy": "itchy",
    "iychy": "itchy",
    "lbood": "blood",
    "lood": "blood",
    "nlood": "blood",
    "oain": "pain",
    "oize": "ooze",
    "ongue": "tongue",
    "ooe": "ooze",
    "ooez": "ooze",
    "oooze": "ooze",
    "ooxe": "ooze",
    "oozee": "ooze",
    "oozr": "ooze",
    "oozw": "ooze",
    "oozze": "ooze",
    "opze": "ooze",
    "otchy": "itchy",
    "otngue": "tongue",
    "oze": "ooze",
    "ozoe": "ooze",
    "paain": "pain",
    "paib": "pain",
    "paim": "pain",
    "paon": "pain",
    "paun": "pain",
    "poze": "ooze",
    "ppain": "pain",
    "ppus": "pus",
    "psin": "pain",
    "puus": "pus",
    "pys": "pus",
    "qelts": "welts",
    "raah": "rash",
    "raash": "rash",
    "radh": "rash",
    "rahs": "rash",
    "rasg": "rash",
    "rashh": "rash",
    "rasj": "rash",
    "rassh": "rash",
    "rcust": "crust",
    "rhroat": "throat",
    "rongue": "tongue",
    "rrash": "rash",
    "rsah": "rash",
    "rssh": "rash",
    "sacb": "scab",
    "scaab": "scab",
    "scabb": "scab",
    "scav": "scab",
    "sccab": "scab",
    "scsb": "scab",
    "sscab": "scab",
    "svab": "scab",
    "sxab": "scab",
    "tchy": "itchy",
    "tgroat": "throat",
    "theoat": "throat",
    "thhroat": "throat",
    "thoat": "throat",
    "thorat": "throat",
    "thrat": "throat",
    "thriat": "throat",
    "throa": "throat",
    "throaat": "throat",
    "throar": "throat",
    "throatt": "throat",
    "throay": "throat",
    "throoat": "throat",
    "throst": "throat",
    "throta": "throat",
    "thrpat": "throat",
    "thrroat": "throat",
    "thtoat": "throat",
    "tingue": "tongue",
    "tjroat": "throat",
    "tngue": "tongue",
    "tnogue": "tongue",
    "tobgue": "tongue",
    "tognue": "tongue",
    "togue": "tongue",
    "tomgue": "tongue",
    "tonfue": "tongue",
    "tongeu": "tongue",
    "tonggue": "tongue",
    "tongie": "tongue",
    "tongu": "tongue",
    "tonguee": "tongue",
    "tongur": "tongue",
    "tonguue": "tongue",
    "tonguw": "tongue",
    "tongye": "tongue",
    "tonhue": "tongue",
    "tonngue": "tongue",
    "tonue": "tongue",
    "tonuge": "tongue",
    "toongue": "tongue",
    "tpngue": "tongue",
    "trhoat": "throat",
    "tthroat": "throat",
    "ttongue": "tongue",
    "utchy": "itchy",
    "vhills": "chills",
    "vlood": "blood",
    "vrust": "crust",
    "weelts": "welts",
    "wekts": "welts",
    "wellts": "welts",
    "welrs": "welts",
    "welst": "welts",
    "welta": "welts",
    "weltd": "welts",
    "weltss": "welts",
    "weltts": "welts",
    "welys": "welts",
    "wetls": "welts",
    "wlets": "welts",
    "wlts": "welts",
    "wrlts": "welts",
    "wwelts": "welts",
    "wwlts": "welts",
    "xhills": "chills",
    "xrust": "crust",
    "yhroat": "throat",
    "yongue": "tongue",
}
