"""Spanish phrase patterns of the red-flag screen, added to the atoms of ``lexicon.py``.

The lexicon is the layer that still screens when the learned model cannot load, so a Spanish
red flag must not depend on the model alone. Patients write without accents, and the shared
normaliser folds accents and turns a lone "y" into "why" (English shorthand); patterns here
never rely on "y". ``{g1}``..``{g4}`` are the same word-gap macros as in ``lexicon.py``.

Written from the triage policy, in the words US Spanish-speaking patients use (Mexican,
Caribbean, Central and South American), and tuned only on the Spanish training files in
``triage-data/train/``; the frozen blind sets were not read.
"""

from __future__ import annotations

ATOMS_ES: dict[str, list[str]] = {
    # ---------------------------------------------------------------- emergency
    "BREATHING": [
        r"no (?:puedo|podia|pude|puede|podemos) {g1}respirar",
        r"(?:me |le )?cuesta {g2}respirar",
        r"(?:dificultad|problemas?|trabajo) (?:para|al) respirar",
        r"falta\w* {g2}(?:el )?aire|sin aire|(?:no )?(?:me |le )?entra (?:el )?aire|me quedo sin aire|disnea|sibilancias?",
        r"(?:me estoy |se esta |siento que me )?ahog\w*",
        r"(?:silb\w*|chifl\w*|pitido|hervidero) {g3}pecho|pecho {g2}(?:silb\w*|chifl\w*|pitido)",
        r"respir\w* {g2}(?:raro|rara|mal|dificil|pesad\w*|ruid\w*|cortad\w*|agitad\w*|rapido)",
        r"oximetro\w* {g3}(?:8\d|7\d|9[0-2])|satura\w* {g3}(?:8\d|7\d|9[0-2])|oxigeno {g2}baj\w*",
        r"asma|inhalador|bomba para el asma",
        r"(?:no (?:puedo|podia) )?jalar aire|(?:silba|silbido|pito|chifla) {g3}respir\w*|respir\w* {g3}(?:pito|silb\w*)",
        r"labios (?:morados|azules)|(?:me |le )?(?:silba|chifla) el pecho",
    ],
    "THROAT": [
        r"(?:se me |se le )?(?:cierra|cerrando|cerro|tapa|tapando) (?:la )?garganta",
        r"garganta {g3}(?:cerrad\w*|cerrando|hinchad\w*|apretad\w*|inflamad\w*|tapad\w*|chiquita)",
        r"lengua {g3}(?:hinch\w*|inflam\w*|gorda|grande|grues\w*|dormida|pesada|rara)|gaznate",
        r"(?:hinch|inflam)\w* {g2}(?:la )?(?:lengua|garganta)|se (?:me |le )?(?:cierre|cierra) (?:la )?garganta|garganta cerrandose",
        r"garganta {g4}(?:chiquita|tapa|tapad\w*)|algo me tapa|(?:hormiguea|pica) {g2}(?:la )?(?:lengua|garganta)|voz {g4}(?:rara|ronca)",
        r"no (?:puedo|puede) {g1}tragar|(?:me )?cuesta tragar|(?:dificultad|dolor) (?:para|al) tragar",
    ],
    "FAINT": [
        r"(?:me |se )desmay\w*|desmayo|desmayad\w*",
        r"perd\w* (?:el )?(?:conocimiento|sentido)",
        r"vahido|(?:me |se )(?:dio|le dio) un (?:vahido|patatus|soponcio)",
        r"se me (?:fue|nublo|puso negro) (?:todo|la vista)|todo se puso negro|me fui para atras",
        r"(?:me |se )(?:cai|cayo) (?:al piso|al suelo|redond\w*)|(?:desperte|amaneci) en el (?:piso|suelo)",
        r"volv\w* en si|(?:estaba|termine|amaneci|desperte|encontre|aparecia?|quede) {g3}(?:el |en el )(?:piso|suelo)",
        r"(?:cuando )?reaccione|se (?:fue|cayo) de lado|me fui de golpe|m desmaye|sincope|perdida de (?:la )?conciencia",
        r"(?:lo proximo|lo siguiente|lo ultimo) (?:que )?(?:recuerdo|supe|se)|se me fue el mundo|me fui (?:pa|para) (?:tras|atras)",
        r"yo en el (?:piso|suelo)|(?:estuve|estuvo|quede|quedo) {g3}sin responder|me (?:estaba|estaban) levantando del (?:piso|suelo)",
    ],
    "CHEST_PAIN": [
        r"dolor (?:de|en el|en mi) pecho|(?:me |le )?duele {g2}(?:el |mi )?pecho|dolor toracico",
        r"(?:presion|opresion|peso) (?:en el|en mi) pecho|pecho {g2}(?:apretad\w*|oprimid\w*)",
        r"pecho si me duele|(?:elefante|piedra|algo pesado) {g4}pecho",
    ],
    "SELF_HARM": [
        r"(?:me quiero|quisiera|quiero|voy a|pienso|pensando en|ganas de) {g1}(?:matar(?:me)?|quitarme la vida|suicid\w*)",
        r"(?:quiero|quisiera|prefiero) morir(?:me)?\b|ganas de morir(?:me)?|me quiero morir(?! de (?:risa|verguenza|hambre))",
        r"(?:ya )?no quiero (?:vivir|seguir (?:viviendo|aqui|asi)|estar aqui|existir|despertar)",
        r"(?:seria )?mejor (?:estar )?muert[oa]|mejor si (?:yo )?no (?:estuviera|existiera)|estarian mejor sin mi",
        r"(?:quiero |quisiera )?desaparecer para siempre|(?:acabar|terminar) con (?:todo|mi vida)|no vale la pena (?:vivir|seguir)",
        r"me (?:corte|cortaba|estoy cortando|hago cortes)|hacerme dano|lastimarme (?:a proposito|sola|solo)?|suicid\w*",
        r"(?:junt\w*|guard\w*|ahorr\w*|tom\w*) {g2}pastillas {g3}(?:para (?:no despertar|acabar|terminar)|todas|de una vez)",
        r"(?:me|le) (?:quiero|quiere) (?:matar|morir)|se quiere (?:matar|morir)|quiere morirse|querer morir\w*|se quiere quitar la vida",
        r"(?:sentido (?:a|de) la vida|para que (?:sigo|seguir) viviendo|pa q sigo viviendo|cansad[oa] de vivir)",
        r"(?:mejor|mas facil) para todos si|estari\w* mejor sin (?:mi|ella|el)|si (?:yo )?(?:ya )?no (?:estoy|estuviera)\b",
        r"nadie {g2}(?:notar|extranar|extrañar)\w* si|si me voy (?:pa|para) siempre|no (?:voy a|quiero) estar mas",
        r"(?:dormir\w* y|para) no despertar|(?:queria|quiero) despedirme (?:porque|de todos|para siempre)",
        r"(?:hacerme|me hice|me hago|me he estado haciendo) (?:dano|daño|cortadas|cortes)|cortarme|me lastime a proposito",
        r"(?:tirarme|aventarme|lanzarme|meterme) {g2}(?:puente|edificio|balcon|rio|metro|tren)|colgarme",
        r"(?:puno|puño|monton|bote|cajas?) de pastillas|pastillas {g3}(?:contadas|guardadas|para cuando)|(?:me )?tome {g2}pastillas {g2}(?:de (?:una|golpe)|juntas|a proposito)",
        r"(?:pienso|pensando|pensado|idea de) (?:en )?(?:como hacerlo|matarme|quitarme la vida|acabar con)",
        r"(?:hacerme|hacerle) dano|me (?:rasguñe|rasgune|arañe|arane|pegue|queme) {g4}(?:me odio|a proposito|castig\w*)",
        r"(?:k|qu)iero seguir viviendo|no (?:k|qu)iero (?:vivir|seguir)|ya no (?:le )?(?:veo|encuentro) sentido|que caso tiene seguir",
        r"(?:me quiero|se quiere|quisiera) ir de este mundo|no (?:va|voy) a estar (?:aqui|aca) (?:pa|para)",
        r"(?:regalando|regale|regalo) (?:sus|mis|todas (?:sus|mis)) cosas|se despide de todos|me despido de todos",
        r"tomarmelas todas|todas las pastillas (?:pa|para) dormir|si me tomo todas las pastillas",
        r"(?:mas|muy) tranquil\w* sin mi|pienso (?:mucho )?en no despertar",
        r"se corto (?:los|las|el) (?:brazos?|piernas?|munecas?)|navajas? {g4}(?:en mi|usarlas|cortarme)",
    ],
    # ---------------------------------------------------------------- urgent
    "PUS": [r"\bmateria\b|supur\w*|pus\b|purulent\w*"],
    "CRUST": [r"costr\w* {g3}(?:amarill\w*|color miel|de miel|como miel)|postill\w* {g2}amarill\w*"],
    "YELLOW": [r"amarill\w*|color miel"],
    "OOZE": [
        r"(?:sale|sigue saliendo|saliendo|saca|bota|echa|suelta|escurre) {g3}(?:liquido|agua|aguita|agüita|juguito)",
        r"liquido amarill\w*|exudado",
    ],
    "RED_LINES": [r"(?:lineas?|rayas?) roj\w*|linfangitis|estrias? (?:roj|eritemat)\w*"],
    "SPREAD": [
        r"(?:se )?(?:esta )?(?:extendiendo|expandiendo|regando|riega|extiende|expande)",
        r"(?:ya )?(?:llego|paso|se paso|se fue) (?:a|hasta) (?:la|el|los) (?:frente|cuello|quijada|oreja|ojo|nariz|pecho)",
    ],
    "HOT_TOUCH": [r"caliente al (?:tacto|tocar)|(?:arde|quema) al tocar|se siente caliente|(?:duro|dura) y caliente"],
    "FEVER": [r"fiebre|calentura|escalofri\w*|temperatura alta|febril|temblando de frio|tiritando"],
    "TEMP_WORD": [r"temperatura|grados|termometro|amaneci con|marca"],
    "SMELL": [r"(?:huele|olor) {g2}(?:mal|feo|raro|horrible|podrido|fuerte)|mal olor|apesta|hedor"],
    "INFECTION": [r"infect\w*|infeccion"],
    "COLD_SORE": [
        r"fuegos? (?:labial\w*|en (?:el|los|mi) (?:labio\w*|boca))|(?:salio|sale|salen|tengo|tiene|un|unos|brot\w*) {g1}fueg(?:o|os|uito|uitos)\b|herpes|fogazo",
        r"(?:hormigue\w*|cosquill\w*|ardor|arde|quema|comezon|pica) {g3}labio",
        r"(?:bolita|burbujit\w*|ampollit\w*|granitos? (?:con|de) agua) {g4}labio|labio {g4}(?:bolita|burbujit\w*|ampollit\w*)",
    ],
    "BLISTER": [r"ampoll\w*|vesicul\w*|granitos? (?:con|de) agua|burbujit\w*|racimo\w*|racimit\w*"],
    "HIVES": [r"ronchas?|urticaria|habones"],
    "RASH": [r"sarpullido|salpullido|erupcion|brote (?:rojo|de ronchas)"],
    "ITCHY_WIDE": [
        r"(?:comezon|picazon|rasquina|pica) {g3}(?:todo el cuerpo|todas partes|por todo)",
        r"puntitos rojos {g3}pican|(?:llen[oa]s?|todo|toda) de (?:puntitos|granitos|ronchitas)",
    ],
    "SEVERE": [
        r"muy fuerte|insoportable|horrible|intens\w*|demasiado|muchisim\w*|mucho mas|tanto que",
        r"(?:[7-9]|10) de 10|no (?:puedo|pude) dormir",
    ],
    "PAIN": [r"dolor\w*|(?:me |le )?duele\w*|adolorid\w*"],
    "BLEED": [r"sangr\w*"],
    "BLEED_PERSIST": [
        r"no (?:me |le )?(?:para|deja|paraba|dejaba) de sangrar|sigue sangrando|no (?:para|deja) la sangre",
        r"sangr\w* {g4}(?:minutos|media hora|una hora|hr|hrs)|(?:sigue|todavia) {g2}saliendo sangre",
        r"sangr\w* {g3}no para|sangre {g4}(?:minutos|media hora|una hora|hr|hrs)",
    ],
    "EYE_PAIN": [
        r"(?:me |le )?duele\w* (?:el |los |mi |mis )?ojos?|dolor (?:de|en el|en los) ojos?",
        r"ojos? {g4}(?:dolor|duele|arde|irritad\w*)|(?:arde|duele) {g2}ojos?",
    ],
    "SWELL_SEVERE": [r"ojos? {g2}(?:cerrad\w*|no (?:lo |los )?(?:puedo|puede) abrir)"],
    "VISION": [
        r"vision borrosa|(?:veo|mira|ve|vea) {g2}(?:borroso|doble|nublado|manchas|lucecitas)|no (?:veo|puedo ver) bien",
        r"se (?:me |le )?nubla (?:la vista|el ojo)|vista nublada|nublado del ojo",
        r"(?:la luz|el sol) {g2}(?:me )?(?:lastima|molesta|duele) (?:los|el) ojos?",
    ],
    "WORSE": [
        r"\bpeor\b|empeor\w*|cada (?:vez|dia|hora) mas|mas (?:que|de lo que estaba) (?:ayer|antes|esta manana)",
        r"\bmas\b {g3}(?:que|de lo que) (?:ayer|antier|antes|anoche|esta manana|el dia)|hoy {g1}(?:mas|peor)\b",
        r"(?:ha |va )?subido|va (?:pa|para) atras|en vez de (?:bajar|mejorar)|no cede|progresiv\w*",
        r"(?:hinchazon|rojo|rojez|dolor|inflamacion|ardor) {g2}regres\w*|regres\w* {g2}(?:la hinchazon|lo rojo|el dolor|la inflamacion)",
    ],
    "REDNESS": [r"roj\w*|enrojec\w*|rojez\w*|colorad\w*"],
    "SWELLING": [
        r"hinch\w*|inflamad\w*|inflamacion|inflamo|inflaron|inflo\b|se (?:me |le )?inflar\w*|edematiz\w*",
        r"(?:labios|cara|boca|parpados|ojos) enorm\w*",
    ],
    "SWELL_FAST": [r"(?:cara|labios?|boca|parpados?|ojos?) {g3}(?:como (?:un )?globo|se infl\w*)"],
    "FAST": [
        r"rapid\w*|de golpe|de repente|derepente|en minutos|en (?:un |unos )?(?:ratito|momento|segundos|minutos)|"
        r"al instante|de inmediato|enseguida|en cuestion de|en \d+ minutos|cada minuto|a la media hora|a la hora"
    ],
    "LIPS": [r"labios?|boca|bemba|trompa"],
    "FACE_AREA": [r"cara|labios?|boca|parpados?|ojos?|cachetes?|mejillas?|rostro"],
    "ALLERGIC": [r"alergi\w*|reaccion alergica|angioedema|urticaria generalizada"],
}


# Spanish alternatives of the sentence frames of ``lexicon.py`` (joined to them with "|").
FRAMES_ES: dict[str, str] = {
    # general questions about risks and signs, hypotheticals, curiosity: not a report of a symptom
    "GENERIC": (
        r"\b(?:que|cuales) (?:son )?(?:las |los )?(?:señales|senales|sintomas)\b"
        r"|\bcomo (?:se si|sabria si|me doy cuenta|distingo|reconozco|se ve|seria|se veria|saber si)\b"
        r"|\bque (?:pasa|hago|debo hacer|hay que hacer|tengo que hacer) si\b"
        r"|\bsi (?:algun dia |de repente |en algun momento |por ejemplo )?(?:me |le |a uno le |alguien |uno )?"
        r"(?:llegara|llegan?|saliera|sale|diera|da|pasara|sintiera|tuviera|empezara|pusiera)\b"
        r"|\b(?:por|de|pura|nomas|nada mas) curiosidad\b|\bpregunto (?:por|x) si acaso\b|\b(?:solo|nomas) pregunto\b"
        r"|\bnomas quiero saber\b|\bque tan comun\b|\bes comun que\b|\bpuede (?:dar|causar|provocar)\b"
        r"|\bcuando (?:se preocupa uno|me debo preocupar|hay que preocuparse)\b|\b(?:para|pa) estar (?:pendiente|atenta|atento)\b"
    ),
    "CANDIDACY": (
        r"\b(?:me puedo|puedo|se puede|ella se puede|el se puede) (?:hacer|hacerme|hacerse) (?:el )?(?:tratamiento|microneedling)\b"
        r"|\bsoy alergic\w* a\b|\b(?:es|soy) propens\w* a\b"
    ),
}
