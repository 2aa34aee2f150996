#!/usr/bin/env python3
"""Generate lemflow's embedded demo corpus (resources/demo/**), deterministically.

The corpus is synthetic, written for this project: trilingual (en/si/ta) sentence
templates in a Sri Lankan news/government register, filled from a trilingual lexicon of
persons, districts, provinces, organisations, hospitals, schools, events, dates and
numbers.  Every token carries its gold UPOS and BIO NER tag, so the parallel corpus, the
tagger train/heldout sets, the comparable corpora and the lexicon backend files all share
one consistent gold annotation.  A separate template set produces code-mixed sentiment
comments (Singlish, Tanglish).

Usage: python scripts/make_demo_corpus.py [--out resources/demo] [--seed 13]
"""
from __future__ import annotations

import argparse
import csv
import random
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ZWJ = "\u200d"

# --------------------------------------------------------------------------- lexicon
# Persons: (en, si, ta, female?)
PERSONS = [
    ("Nimal Perera", "නිමල් පෙරේරා", "நிமல் பெரேரா", 0),
    ("Kamala Jayasinghe", "කමලා ජයසිංහ", "கமலா ஜயசிங்க", 1),
    ("Ruwan Wickramasinghe", "රුවන් වික්‍රමසිංහ", "ருவன் விக்ரமசிங்க", 0),
    ("Priyanka Fernando", "ප්‍රියංකා ප්‍රනාන්දු", "பிரியங்கா பெர்னாண்டோ", 1),
    ("Mohamed Rizwan", "මොහොමඩ් රිස්වාන්", "முகமது ரிஸ்வான்", 0),
    ("Selvaraj Kandiah", "සෙල්වරාජ් කන්දයියා", "செல்வராஜ் கந்தையா", 0),
    ("Chaminda Bandara", "චමින්ද බණ්ඩාර", "சமிந்த பண்டார", 0),
    ("Dilani Rathnayake", "දිලානි රත්නායක", "திலானி ரத்நாயக்க", 1),
    ("Tharindu Senanayake", "තරිඳු සේනානායක", "தரிந்து சேனநாயக்க", 0),
    ("Lakshmi Sivakumar", "ලක්ෂ්මි සිවකුමාර්", "லக்ஷ்மி சிவகுமார்", 1),
    ("Sunil Gunawardena", "සුනිල් ගුණවර්ධන", "சுனில் குணவர்தன", 0),
    ("Fathima Nazeer", "ෆාතිමා නසීර්", "பாத்திமா நசீர்", 1),
    ("Kumar Ponnambalam", "කුමාර් පොන්නම්බලම්", "குமார் பொன்னம்பலம்", 0),
    ("Asanka Herath", "අසංක හේරත්", "அசங்க ஹேரத்", 0),
    ("Nadeesha Kumari", "නදීෂා කුමාරි", "நதீஷா குமாரி", 1),
    ("Kasun Amarasekara", "කසුන් අමරසේකර", "கசுன் அமரசேகர", 0),
    ("Vasantha Ekanayake", "වසන්ත ඒකනායක", "வசந்த ஏக்கநாயக்க", 0),
    ("Rohini Kanagaratnam", "රෝහිණී කනගරත්නම්", "ரோகிணி கனகரத்தினம்", 1),
    ("Janaka Siriwardena", "ජනක සිරිවර්ධන", "ஜனக சிறிவர்தன", 0),
    ("Ganesh Nadarajah", "ගනේෂ් නඩරාජා", "கணேஷ் நடராஜா", 0),
    ("Sanduni Abeywickrama", "සඳුනි අබේවික්‍රම", "சந்துனி அபேவிக்ரம", 1),
    ("Irfan Haniffa", "ඉර්ෆාන් හනීෆා", "இர்பான் ஹனீபா", 0),
    ("Upul Karunaratne", "උපුල් කරුණාරත්න", "உபுல் கருணாரத்ன", 0),
    ("Malathi Yogarajah", "මාලතී යෝගරාජා", "மாலதி யோகராஜா", 1),
    ("Dinesh Weerasekara", "දිනේෂ් වීරසේකර", "தினேஷ் வீரசேகர", 0),
    ("Shirani Mendis", "ශිරානි මෙන්ඩිස්", "ஷிராணி மெண்டிஸ்", 1),
    ("Thilak Samarakoon", "තිලක් සමරකෝන්", "திலக் சமரக்கோன்", 0),
    ("Gayathri Navaratnam", "ගායත්‍රී නවරත්නම්", "காயத்ரி நவரத்தினம்", 1),
    ("Nuwan Pathirana", "නුවන් පතිරණ", "நுவன் பதிரண", 0),
    ("Sarath Dias", "සරත් ඩයස්", "சரத் டயஸ்", 0),
    ("Anjali Thevarajah", "අංජලී තේවරාජා", "அஞ்சலி தேவராஜா", 1),
    ("Pradeep Ranasinghe", "ප්‍රදීප් රණසිංහ", "பிரதீப் ரணசிங்க", 0),
]
# Roles: (en tokens with UPOS, si, ta) - every token is a common word outside the entity.
ROLES = [
    ("Minister/NOUN", "අමාත්‍ය/NOUN", "அமைச்சர்/NOUN"),
    ("Governor/NOUN", "ආණ්ඩුකාර/NOUN", "ஆளுநர்/NOUN"),
    ("District/NOUN Secretary/NOUN", "දිස්ත්‍රික්/NOUN ලේකම්/NOUN", "மாவட்ட/NOUN செயலாளர்/NOUN"),
    ("Deputy/ADJ Minister/NOUN", "නියෝජ්‍ය/ADJ අමාත්‍ය/NOUN", "பிரதி/ADJ அமைச்சர்/NOUN"),
    ("Director/NOUN", "අධ්‍යක්ෂ/NOUN", "பணிப்பாளர்/NOUN"),
    ("Chief/ADJ Engineer/NOUN", "ප්‍රධාන/ADJ ඉංජිනේරු/NOUN", "பிரதம/ADJ பொறியியலாளர்/NOUN"),
    ("Parliamentarian/NOUN", "පාර්ලිමේන්තු/NOUN මන්ත්‍රී/NOUN", "பாராளுமன்ற/NOUN உறுப்பினர்/NOUN"),
    ("Divisional/ADJ Secretary/NOUN", "ප්‍රාදේශීය/ADJ ලේකම්/NOUN", "பிரதேச/NOUN செயலாளர்/NOUN"),
    ("Mayor/NOUN", "නගරාධිපති/NOUN", "மேயர்/NOUN"),
    ("Chief/ADJ Medical/ADJ Officer/NOUN", "ප්‍රධාන/ADJ වෛද්‍ය/NOUN නිලධාරී/NOUN", "பிரதம/ADJ வைத்திய/NOUN அதிகாரி/NOUN"),
]
# Districts: (en, si, ta)
DISTRICTS = [
    ("Colombo", "කොළඹ", "கொழும்பு"), ("Gampaha", "ගම්පහ", "கம்பஹா"),
    ("Kalutara", "කළුතර", "களுத்துறை"), ("Kandy", "මහනුවර", "கண்டி"),
    ("Matale", "මාතලේ", "மாத்தளை"), ("Nuwara Eliya", "නුවරඑළිය", "நுவரெலியா"),
    ("Galle", "ගාල්ල", "காலி"), ("Matara", "මාතර", "மாத்தறை"),
    ("Hambantota", "හම්බන්තොට", "அம்பாந்தோட்டை"), ("Jaffna", "යාපනය", "யாழ்ப்பாணம்"),
    ("Kilinochchi", "කිලිනොච්චි", "கிளிநொச்சி"), ("Mannar", "මන්නාරම", "மன்னார்"),
    ("Vavuniya", "වවුනියාව", "வவுனியா"), ("Mullaitivu", "මුලතිව්", "முல்லைத்தீவு"),
    ("Batticaloa", "මඩකලපුව", "மட்டக்களப்பு"), ("Ampara", "අම්පාර", "அம்பாறை"),
    ("Trincomalee", "ත්‍රිකුණාමලය", "திருகோணமலை"), ("Kurunegala", "කුරුණෑගල", "குருநாகல்"),
    ("Puttalam", "පුත්තලම", "புத்தளம்"), ("Anuradhapura", "අනුරාධපුරය", "அனுராதபுரம்"),
    ("Polonnaruwa", "පොළොන්නරුව", "பொலன்னறுவை"), ("Badulla", "බදුල්ල", "பதுளை"),
    ("Monaragala", "මොණරාගල", "மொனராகலை"), ("Ratnapura", "රත්නපුර", "இரத்தினபுரி"),
    ("Kegalle", "කෑගල්ල", "கேகாலை"),
]
PROVINCES = [
    ("Western", "බස්නාහිර", "மேல்"), ("Central", "මධ්‍යම", "மத்திய"),
    ("Southern", "දකුණු", "தென்"), ("Northern", "උතුරු", "வட"),
    ("Eastern", "නැගෙනහිර", "கிழக்கு"), ("North Western", "වයඹ", "வடமேல்"),
    ("North Central", "උතුරු මැද", "வடமத்திய"), ("Uva", "ඌව", "ஊவா"),
    ("Sabaragamuwa", "සබරගමුව", "சப்ரகமுவ"),
]
# Organisations: (en, si nominative, ta nominative, ta genitive).  si genitive = nom + "ේ".
ORGS = [
    ("Ministry of Health", "සෞඛ්‍ය අමාත්‍යාංශය", "சுகாதார அமைச்சு", "சுகாதார அமைச்சின்"),
    ("Ministry of Education", "අධ්‍යාපන අමාත්‍යාංශය", "கல்வி அமைச்சு", "கல்வி அமைச்சின்"),
    ("Ministry of Finance", "මුදල් අමාත්‍යාංශය", "நிதி அமைச்சு", "நிதி அமைச்சின்"),
    ("Ministry of Highways", "මහාමාර්ග අමාත්‍යාංශය", "நெடுஞ்சாலைகள் அமைச்சு", "நெடுஞ்சாலைகள் அமைச்சின்"),
    ("Ministry of Agriculture", "කෘෂිකර්ම අමාත්‍යාංශය", "விவசாய அமைச்சு", "விவசாய அமைச்சின்"),
    ("Ministry of Fisheries", "ධීවර අමාත්‍යාංශය", "கடற்றொழில் அமைச்சு", "கடற்றொழில் அமைச்சின்"),
    ("Election Commission", "මැතිවරණ කොමිෂන් සභාව", "தேர்தல்கள் ஆணைக்குழு", "தேர்தல்கள் ஆணைக்குழுவின்"),
    ("Disaster Management Centre", "ආපදා කළමනාකරණ මධ්‍යස්ථානය", "அனர்த்த முகாமைத்துவ நிலையம்", "அனர்த்த முகாமைத்துவ நிலையத்தின்"),
    ("Road Development Authority", "මාර්ග සංවර්ධන අධිකාරිය", "வீதி அபிவிருத்தி அதிகார சபை", "வீதி அபிவிருத்தி அதிகார சபையின்"),
    ("Sri Lanka Ports Authority", "ශ්‍රී ලංකා වරාය අධිකාරිය", "இலங்கை துறைமுக அதிகார சபை", "இலங்கை துறைமுக அதிகார சபையின்"),
    ("Central Bank of Sri Lanka", "ශ්‍රී ලංකා මහ බැංකුව", "இலங்கை மத்திய வங்கி", "இலங்கை மத்திய வங்கியின்"),
    ("Department of Meteorology", "කාලගුණ විද්‍යා දෙපාර්තමේන්තුව", "வளிமண்டலவியல் திணைக்களம்", "வளிமண்டலவியல் திணைக்களத்தின்"),
    ("Police Department", "පොලිස් දෙපාර්තමේන්තුව", "பொலிஸ் திணைக்களம்", "பொலிஸ் திணைக்களத்தின்"),
    ("National Water Supply and Drainage Board", "ජාතික ජල සම්පාදන හා ජලාපවහන මණ්ඩලය",
     "தேசிய நீர் வழங்கல் மற்றும் வடிகாலமைப்புச் சபை", "தேசிய நீர் வழங்கல் மற்றும் வடிகாலமைப்புச் சபையின்"),
    ("Ceylon Electricity Board", "ලංකා විදුලිබල මණ්ඩලය", "இலங்கை மின்சார சபை", "இலங்கை மின்சார சபையின்"),
    ("Department of Census and Statistics", "ජන ලේඛන හා සංඛ්‍යා ලේඛන දෙපාර්තමේන්තුව",
     "தொகை மதிப்பு மற்றும் புள்ளிவிபரத் திணைக்களம்", "தொகை மதிப்பு மற்றும் புள்ளிவிபரத் திணைக்களத்தின்"),
    ("University of Peradeniya", "පේරාදෙණිය විශ්වවිද්‍යාලය", "பேராதனைப் பல்கலைக்கழகம்", "பேராதனைப் பல்கலைக்கழகத்தின்"),
    ("University of Jaffna", "යාපනය විශ්වවිද්‍යාලය", "யாழ்ப்பாணப் பல்கலைக்கழகம்", "யாழ்ப்பாணப் பல்கலைக்கழகத்தின்"),
    ("Sri Lanka Navy", "ශ්‍රී ලංකා නාවික හමුදාව", "இலங்கை கடற்படை", "இலங்கை கடற்படையின்"),
    ("Sri Lanka Army", "ශ්‍රී ලංකා යුද්ධ හමුදාව", "இலங்கை இராணுவம்", "இலங்கை இராணுவத்தின்"),
    ("Irrigation Department", "වාරිමාර්ග දෙපාර්තමේන්තුව", "நீர்ப்பாசனத் திணைக்களம்", "நீர்ப்பாசனத் திணைக்களத்தின்"),
    ("Tea Research Institute", "තේ පර්යේෂණ ආයතනය", "தேயிலை ஆராய்ச்சி நிறுவனம்", "தேயிலை ஆராய்ச்சி நிறுவனத்தின்"),
]
# Hospitals: (en, si nom, ta nom-stem, ta head nom, ta head loc, ta head gen)
HOSPITALS = [
    ("Teaching Hospital", "ශික්ෂණ රෝහල", "போதனா", "வைத்தியசாலை", "வைத்தியசாலையில்", "வைத்தியசாலையின்"),
    ("Base Hospital", "මූලික රෝහල", "ஆதார", "வைத்தியசாலை", "வைத்தியசாலையில்", "வைத்தியசாலையின்"),
    ("General Hospital", "මහ රෝහල", "பொது", "வைத்தியசாலை", "வைத்தியசாலையில்", "வைத்தியசாலையின்"),
    ("District Hospital", "දිස්ත්‍රික් රෝහල", "மாவட்ட", "வைத்தியசாலை", "வைத்தியசாலையில்", "வைத்தியசாலையின்"),
]
# Schools: (en, si nom, ta stem, ta nom, loc, gen, acc)
SCHOOLS = [
    ("Central College", "මධ්‍ය මහා විද්‍යාලය", "மத்திய", "கல்லூரி", "கல்லூரியில்", "கல்லூரியின்", "கல்லூரியை"),
    ("Hindu College", "හින්දු විද්‍යාලය", "இந்துக்", "கல்லூரி", "கல்லூரியில்", "கல்லூரியின்", "கல்லூரியை"),
    ("Maha Vidyalaya", "මහා විද්‍යාලය", "மகா", "வித்தியாலயம்", "வித்தியாலயத்தில்", "வித்தியாலயத்தின்", "வித்தியாலயத்தை"),
    ("Balika Vidyalaya", "බාලිකා විද්‍යාලය", "பாலிகா", "வித்தியாலயம்", "வித்தியாலயத்தில்", "வித்தியாலயத்தின்", "வித்தியாலயத்தை"),
    ("Muslim College", "මුස්ලිම් විද්‍යාලය", "முஸ்லிம்", "கல்லூரி", "கல்லூரியில்", "கல்லூரியின்", "கல்லூரியை"),
]
# Elections (MISC): (en, si nom, ta locative, ta "for")
ELECTIONS = [
    ("Presidential Election", "ජනාධිපතිවරණය", "ஜனாதிபதித் தேர்தலில்", "ஜனாதிபதித் தேர்தலுக்காக"),
    ("Parliamentary Election", "පාර්ලිමේන්තු මැතිවරණය", "பாராளுமன்றத் தேர்தலில்", "பாராளுமன்றத் தேர்தலுக்காக"),
    ("Provincial Council Election", "පළාත් සභා මැතිවරණය", "மாகாண சபைத் தேர்தலில்", "மாகாண சபைத் தேர்தலுக்காக"),
    ("Local Government Election", "පළාත් පාලන මැතිවරණය", "உள்ளூராட்சித் தேர்தலில்", "உள்ளூராட்சித் தேர்தலுக்காக"),
]
# Festivals (MISC): (en, si, ta)
FESTIVALS = [
    ("Vesak", "වෙසක්", "வெசாக்"), ("Poson", "පොසොන්", "பொசன்"), ("Christmas", "නත්තල්", "நத்தார்"),
    ("Deepavali", "දීපවාලි", "தீபாவளி"), ("Ramazan", "රාමසාන්", "ரமழான்"),
    ("Thai Pongal", "තෛපොංගල්", "தைப்பொங்கல்"), ("Esala Perahera", "ඇසළ පෙරහැර", "எசல பெரஹெரா"),
]
DAYS = [("Monday", "සඳුදා", "திங்கட்கிழமை"), ("Tuesday", "අඟහරුවාදා", "செவ்வாய்க்கிழமை"),
        ("Wednesday", "බදාදා", "புதன்கிழமை"), ("Thursday", "බ්‍රහස්පතින්දා", "வியாழக்கிழமை"),
        ("Friday", "සිකුරාදා", "வெள்ளிக்கிழமை"), ("Saturday", "සෙනසුරාදා", "சனிக்கிழமை"),
        ("Sunday", "ඉරිදා", "ஞாயிற்றுக்கிழமை")]
MONTHS = [("January", "ජනවාරි", "ஜனவரி"), ("February", "පෙබරවාරි", "பெப்ரவரி"), ("March", "මාර්තු", "மார்ச்"),
          ("April", "අප්‍රේල්", "ஏப்ரல்"), ("May", "මැයි", "மே"), ("June", "ජූනි", "ஜூன்"),
          ("July", "ජූලි", "ஜூலை"), ("August", "අගෝස්තු", "ஆகஸ்ட்"), ("September", "සැප්තැම්බර්", "செப்டெம்பர்"),
          ("October", "ඔක්තෝබර්", "ஒக்டோபர்"), ("November", "නොවැම්බර්", "நவம்பர்"), ("December", "දෙසැම්බර්", "டிசம்பர்")]

# --------------------------------------------------------------------------- templates
# One template = (en, si, ta).  Tokens are space-separated.  "word/T" gives the UPOS by a
# short code (T below), "word/T/B-ORG" also a NER tag; a bare word is PUNCT if punctuation,
# NUM if digits, a function word from FUNC, else NOUN.  "{X}" is a slot (see Fill.render);
# "{N}suffix/U" glues a number to a case suffix (Sinhala "12ක්").
TEMPLATES = [
    ("{P} said/V {T} that the {O} will/X open/V {N2} new/A offices in the {L} district .",
     "{T} {O} {L} දිස්ත්‍රික්කයේ නව/A කාර්යාල {N2}ක්/U විවෘත කරන/V බව {P} පැවසීය/V .",
     "{T} {O} {L} மாவட்டத்தில் {N2} புதிய/A அலுவலகங்களைத் திறக்கவுள்ளதாக/V {P} தெரிவித்தார்/V ."),
    ("Heavy/A rain flooded/V {N2} villages in the {L} district {T} .",
     "{T} ඇද/V හැලුණු/V අධික/A වර්ෂාව හේතුවෙන් {L} දිස්ත්‍රික්කයේ ගම්මාන {N2}ක්/U ජලයෙන් යට/ADV විය/V .",
     "{T} பெய்த/V கனமழை காரணமாக/ADP {L} மாவட்டத்தின் {N2} கிராமங்கள் வெள்ளத்தில் மூழ்கின/V ."),
    ("The {O} has allocated/V {M} for the renovation of schools in the {V} Province .",
     "{V} පළාතේ පාසල් ප්‍රතිසංස්කරණය සඳහා {O} {M} මුදලක් වෙන්/ADV කර/V ඇත/X .",
     "{V} மாகாணத்தில் பாடசாலைகளைப் புனரமைப்பதற்காக/V {O} {M} ஒதுக்கீடு செய்துள்ளது/V ."),
    ("A new/A bridge built/V in the {L} area was opened/V by {P} {T} .",
     "{L} ප්‍රදේශයේ ඉදිකළ/V නව/A පාලම {T} {P} විසින් විවෘත කරන/V ලදී/X .",
     "{L} பகுதியில் நிர்மாணிக்கப்பட்ட/V புதிய/A பாலம் {T} {P} அவர்களால்/R திறந்து/V வைக்கப்பட்டது/X ."),
    ("The {O} announced/V that {N} candidates will/X contest/V the {E} in the {L} district .",
     "{L} දිස්ත්‍රික්කයෙන් {E} සඳහා අපේක්ෂකයින් {N} දෙනෙකු තරග කරන/V බව {O} නිවේදනය කළේය/V .",
     "{L} மாவட்டத்தில் {Eloc} {N} வேட்பாளர்கள் போட்டியிடவுள்ளதாக/V {O} அறிவித்துள்ளது/V ."),
    ("Police arrested/V {N3} suspects with {N2} kilograms of heroin in the {L} area {T} .",
     "{T} {L} ප්‍රදේශයේදී හෙරොයින් කිලෝග්‍රෑම් {N2}ක්/U සමඟ සැකකරුවන් {N3} දෙනෙකු පොලිසිය විසින් අත්අඩංගුවට ගන්නා/V ලදී/X .",
     "{T} {L} பகுதியில் {N2} கிலோகிராம் ஹெரோயினுடன் {N3} சந்தேக/A நபர்கள் பொலிஸாரால் கைது செய்யப்பட்டனர்/V ."),
    ("{P} inspected/V the construction of the new/A ward at the {H} {T} .",
     "{T} {Hl} නව/A වාට්ටුවේ ඉදිකිරීම් කටයුතු {P} විසින් පරීක්ෂා කරන/V ලදී/X .",
     "{T} {Hg} புதிய/A விடுதியின் நிர்மாணப் பணிகளை {P} பார்வையிட்டார்/V ."),
    ("The {O} stated/V that {N} families were displaced/V by the landslide in the {L} area .",
     "{L} ප්‍රදේශයේ ඇති/V වූ/X නායයෑම හේතුවෙන් පවුල් {N}ක්/U අවතැන්/A වූ/X බව {O} ප්‍රකාශ කළේය/V .",
     "{L} பகுதியில் ஏற்பட்ட/V மண்சரிவு காரணமாக/ADP {N} குடும்பங்கள் இடம்பெயர்ந்துள்ளதாக/V {O} தெரிவித்துள்ளது/V ."),
    ("{N} polling stations have been set/V up/P in the {L} district for the {E} .",
     "{E} සඳහා {L} දිස්ත්‍රික්කයේ ඡන්ද මධ්‍යස්ථාන {N}ක්/U පිහිටුවා/V ඇත/X .",
     "{Efor} {L} மாவட்டத்தில் {N} வாக்களிப்பு நிலையங்கள் அமைக்கப்பட்டுள்ளன/V ."),
    ("The {O} will/X recruit/V {N} teachers to schools in the {V} Province next/A year .",
     "ලබන/A වසරේ {V} පළාතේ පාසල් සඳහා ගුරුවරුන් {N} දෙනෙකු {O} විසින් බඳවා/V ගනු/V ලැබේ/X .",
     "அடுத்த/A ஆண்டு {V} மாகாணப் பாடசாலைகளுக்கு {N} ஆசிரியர்களை {O} ஆட்சேர்ப்புச் செய்யவுள்ளது/V ."),
    ("Fishermen in the {L} area were advised/V not/T to go/V to sea for {N3} days .",
     "ඉදිරි/A දින {N3}ක/U කාලය තුළ මුහුදු නොයන/V ලෙස/SCONJ {L} ප්‍රදේශයේ ධීවරයින්ට උපදෙස් දී/V ඇත/X .",
     "அடுத்த/A {N3} நாட்களுக்குக் கடலுக்குச் செல்ல/V வேண்டாம்/X என/SCONJ {L} பகுதி மீனவர்களுக்கு அறிவுறுத்தப்பட்டுள்ளது/V ."),
    ("The {O} said/V that the price of a kilogram of rice will/X fall/V by {N2} rupees .",
     "සහල් කිලෝග්‍රෑමයක මිල රුපියල් {N2}කින්/U අඩු/A වන/V බව {O} පැවසීය/V .",
     "ஒரு/NUM கிலோகிராம் அரிசியின் விலை {N2} ரூபாவால் குறையும்/V என/SCONJ {O} தெரிவித்துள்ளது/V ."),
    ("{P} and {P2} discussed/V the development of the {L} port {T} .",
     "{T} {P} සහ {P2} {L} වරායේ සංවර්ධනය පිළිබඳ සාකච්ඡා කළහ/V .",
     "{T} {P} மற்றும் {P2} ஆகியோர்/R {L} துறைமுகத்தின் அபிவிருத்தி தொடர்பாகக்/ADP கலந்துரையாடினர்/V ."),
    ("A total of {N} students from the {L} district passed/V the university entrance examination this year .",
     "මෙවර/ADV විශ්වවිද්‍යාල ප්‍රවේශ විභාගයෙන් {L} දිස්ත්‍රික්කයේ සිසුන් {N} දෙනෙකු සමත්/A වී/V ඇත/X .",
     "இவ்வருடம்/ADV பல்கலைக்கழக நுழைவுப் பரீட்சையில் {L} மாவட்டத்தைச் சேர்ந்த/V {N} மாணவர்கள் சித்தியடைந்துள்ளனர்/V ."),
    ("The {O} has warned/V that the number of dengue patients in the {L} district has risen/V to {N} .",
     "{L} දිස්ත්‍රික්කයේ ඩෙංගු රෝගීන් ගණන {N} දක්වා ඉහළ/A ගොස්/V ඇති/X බව {O} අනතුරු අඟවයි/V .",
     "{L} மாவட்டத்தில் டெங்கு நோயாளர்களின் எண்ணிக்கை {N} ஆக/ADP அதிகரித்துள்ளதாக/V {O} எச்சரித்துள்ளது/V ."),
    ("{P} laid/V the foundation stone for a new/A school building in the {L} area {T} .",
     "{T} {L} ප්‍රදේශයේ නව/A පාසල් ගොඩනැගිල්ලක් සඳහා මුල්ගල {P} විසින් තබන/V ලදී/X .",
     "{T} {L} பகுதியில் புதிய/A பாடசாலைக் கட்டடத்திற்கான அடிக்கல்லை {P} நாட்டினார்/V ."),
    ("The {O} plans/V to build/V {N} houses for flood victims in the {L} district .",
     "{L} දිස්ත්‍රික්කයේ ගංවතුර විපතට පත්/A වූවන් සඳහා නිවාස {N}ක්/U ඉදිකිරීමට/V {O} සැලසුම් කර/V ඇත/X .",
     "{L} மாவட்டத்தில் வெள்ளத்தால் பாதிக்கப்பட்டவர்களுக்காக {N} வீடுகளை நிர்மாணிக்க/V {O} திட்டமிட்டுள்ளது/V ."),
    ("Train services between {L} and {L2} were suspended/V {T} because/SCONJ of a strike .",
     "වර්ජනයක් හේතුවෙන් {T} {L} සහ {L2} අතර දුම්රිය සේවා අත්හිටුවන/V ලදී/X .",
     "வேலைநிறுத்தம் காரணமாக/ADP {T} {L} மற்றும் {L2} இடையிலான/A ரயில் சேவைகள் இடைநிறுத்தப்பட்டன/V ."),
    ("The {O} will/X conduct/V a survey of {N} households in the {V} Province .",
     "{V} පළාතේ කුටුම්බ {N}ක/U සමීක්ෂණයක් {O} විසින් සිදු කරනු/V ලැබේ/X .",
     "{V} மாகாணத்தில் {N} குடும்பங்களை உள்ளடக்கிய/V ஆய்வொன்றை {O} மேற்கொள்ளவுள்ளது/V ."),
    ("{P} presented/V awards to {N} teachers at a ceremony held/V in the {L} area {T} .",
     "{T} {L} ප්‍රදේශයේ පැවති/V උත්සවයකදී ගුරුවරුන් {N} දෙනෙකුට {P} විසින් සම්මාන පිරිනමන/V ලදී/X .",
     "{T} {L} பகுதியில் நடைபெற்ற/V விழாவில் {N} ஆசிரியர்களுக்கு {P} விருதுகளை வழங்கினார்/V ."),
    ("The water level of the {L} reservoir has risen/V by {N3} feet .",
     "{L} ජලාශයේ ජල මට්ටම අඩි {N3}කින්/U ඉහළ/A ගොස්/V ඇත/X .",
     "{L} நீர்த்தேக்கத்தின் நீர்மட்டம் {N3} அடியால் உயர்ந்துள்ளது/V ."),
    ("Officials of the {O} visited/V the {L} district to assess/V flood damage {T} .",
     "{T} {Og} නිලධාරීන් ගංවතුර හානි තක්සේරු කිරීමට/V {L} දිස්ත්‍රික්කයට ගියහ/V .",
     "{T} {Og} அதிகாரிகள் வெள்ள சேதங்களை மதிப்பிடுவதற்காக/V {L} மாவட்டத்திற்குச் சென்றனர்/V ."),
    ("{N} residents attended/V a mobile/A medical/A clinic held/V at the {S} {T} .",
     "{T} {Sl} පැවති/V ජංගම/A වෛද්‍ය සායනයට ප්‍රදේශවාසීන් {N} දෙනෙකු සහභාගී/A විය/V .",
     "{T} {Sl} நடைபெற்ற/V நடமாடும்/A மருத்துவ/A முகாமில் {N} பிரதேசவாசிகள் கலந்துகொண்டனர்/V ."),
    ("According/V to a report by the {O} , exports rose/V by {N2} percent last/A year .",
     "{Og} වාර්තාවට අනුව පසුගිය/A වසරේ අපනයන සියයට {N2}කින්/U ඉහළ/A ගොස්/V ඇත/X .",
     "{Og} அறிக்கையின்படி கடந்த/A ஆண்டு ஏற்றுமதி {N2} சதவீதத்தால் அதிகரித்துள்ளது/V ."),
    ("{P} urged/V the public to cooperate/V with the {O} during the {F} season .",
     "{F} සමයේදී {O} සමඟ සහයෝගයෙන් කටයුතු කරන/V ලෙස/SCONJ {P} මහජනතාවගෙන් ඉල්ලා/V සිටියේය/X .",
     "{F} பண்டிகைக் காலத்தில் {O} உடன் ஒத்துழைக்குமாறு/V {P} பொதுமக்களிடம் கேட்டுக்கொண்டார்/V ."),
    ("Special/A security arrangements have been made/V in the {L} area for the {F} celebrations .",
     "{F} සැමරුම් සඳහා {L} ප්‍රදේශයේ විශේෂ/A ආරක්‍ෂක/A විධිවිධාන යොදා/V ඇත/X .",
     "{F} கொண்டாட்டங்களுக்காக {L} பகுதியில் விசேட/A பாதுகாப்பு ஏற்பாடுகள் மேற்கொள்ளப்பட்டுள்ளன/V ."),
    ("{P} assumed/V duties at the {O} {T} .",
     "{T} {P} {Og} රාජකාරි භාර ගත්තේය/V .",
     "{T} {P} {Og} கடமைகளைப் பொறுப்பேற்றார்/V ."),
    ("The {O} has decided/V to close/V all/DET schools in the {L} district for {N3} days .",
     "{L} දිස්ත්‍රික්කයේ සියලු/DET පාසල් දින {N3}ක්/U වසා/V තැබීමට/V {O} තීරණය කර/V ඇත/X .",
     "{L} மாவட்டத்தின் அனைத்துப்/DET பாடசாலைகளையும் {N3} நாட்களுக்கு மூடுவதற்கு/V {O} தீர்மானித்துள்ளது/V ."),
    ("Electricity supply to {N} houses in the {L} area was disrupted/V after the storm {T} .",
     "{T} ඇතිවූ/V කුණාටුවෙන් පසු/ADP {L} ප්‍රදේශයේ නිවාස {N}කට/U විදුලි සැපයුම ඇනහිටියේය/V .",
     "{T} ஏற்பட்ட/V புயலைத் தொடர்ந்து/ADP {L} பகுதியில் {N} வீடுகளுக்கான மின்சார விநியோகம் தடைப்பட்டது/V ."),
    ("{P} said/V that the {L} - {L2} highway will/X be completed/V by {Y} .",
     "{L} - {L2} අධිවේගී/A මාර්ගය {Y} වසර වන/V විට නිම කරන/V බව {P} පැවසීය/V .",
     "{L} - {L2} அதிவேக/A நெடுஞ்சாலை {Y} ஆம்/T ஆண்டுக்குள் நிறைவு செய்யப்படும்/V என/SCONJ {P} தெரிவித்தார்/V ."),
    ("The {O} distributed/V dry/A rations to {N} families affected/V by drought in the {L} area .",
     "{L} ප්‍රදේශයේ නියඟයෙන් පීඩාවට පත්/A පවුල් {N}කට/U {O} විසින් වියළි/A ආහාර සලාක බෙදා/V දෙන/V ලදී/X .",
     "{L} பகுதியில் வறட்சியால் பாதிக்கப்பட்ட/V {N} குடும்பங்களுக்கு {O} உலர்/A உணவுப் பொதிகளை விநியோகித்தது/V ."),
    ("Doctors at the {H} performed/V {N2} kidney transplant surgeries this/DET year .",
     "මේ/DET වසරේ {Hl} වෛද්‍යවරුන් වකුගඩු බද්ධ/A කිරීමේ/V සැත්කම් {N2}ක්/U සිදු කර/V ඇත/X .",
     "இந்த/DET ஆண்டு {Hl} வைத்தியர்கள் {N2} சிறுநீரக மாற்று/A அறுவைச் சிகிச்சைகளை மேற்கொண்டுள்ளனர்/V ."),
    ("The {O} signed/V an agreement with the {O2} to improve/V rural/A roads .",
     "ග්‍රාමීය/A මාර්ග සංවර්ධනය කිරීම/V සඳහා {O} {O2} සමඟ ගිවිසුමක් අත්සන් කළේය/V .",
     "கிராமிய/A வீதிகளை அபிவிருத்தி செய்வதற்காக/V {O} {O2} உடன் ஒப்பந்தம் ஒன்றில்/NUM கைச்சாத்திட்டது/V ."),
    ("{N2} people were injured/V in a bus accident on the {L} - {L2} road {T} .",
     "{T} {L} - {L2} මාර්ගයේ සිදු වූ/X බස් අනතුරකින් {N2} දෙනෙකු තුවාල ලැබූහ/V .",
     "{T} {L} - {L2} வீதியில் இடம்பெற்ற/V பஸ் விபத்தில் {N2} பேர் காயமடைந்தனர்/V ."),
    ("The {O} will/X hold/V a mobile/A service in the {L} area {DT} .",
     "{DT} {L} ප්‍රදේශයේ ජංගම/A සේවාවක් {O} විසින් පවත්වනු/V ලැබේ/X .",
     "{DT} {L} பகுதியில் நடமாடும்/A சேவையொன்றை {O} நடத்தவுள்ளது/V ."),
    ("Farmers in the {L} area received/V fertiliser subsidies worth/A {M} .",
     "{L} ප්‍රදේශයේ ගොවීන්ට {M} වටිනා/A පොහොර සහනාධාර ලැබී/V ඇත/X .",
     "{L} பகுதி விவசாயிகளுக்கு {M} பெறுமதியான/A உர மானியங்கள் வழங்கப்பட்டன/V ."),
    ("{P} opened/V a new/A maternity unit at the {H} {DT} .",
     "{DT} {Hl} නව/A මාතෘ ඒකකයක් {P} විසින් විවෘත කරන/V ලදී/X .",
     "{DT} {Hl} புதிய/A மகப்பேற்றுப் பிரிவொன்றை {P} திறந்து/V வைத்தார்/X ."),
    ("A total of {N} tourists arrived/V at the {L} port on a cruise ship {T} .",
     "{T} සංචාරක නෞකාවකින් සංචාරකයින් {N} දෙනෙකු {L} වරායට පැමිණියහ/V .",
     "{T} பயணிகள் கப்பல் மூலம்/ADP {N} சுற்றுலாப் பயணிகள் {L} துறைமுகத்தை வந்தடைந்தனர்/V ."),
    ("The {O} said/V that {N} illegal/A structures near/ADP the {L} lagoon will/X be removed/V .",
     "{L} කලපුව අසල/ADP ඇති/V අනවසර/A ඉදිකිරීම් {N}ක්/U ඉවත්/A කරන/V බව {O} පැවසීය/V .",
     "{L} களப்பு அருகில்/ADP உள்ள/V {N} சட்டவிரோத/A கட்டடங்கள் அகற்றப்படும்/V என/SCONJ {O} தெரிவித்துள்ளது/V ."),
    ("{P} chaired/V the district coordinating/V committee meeting in {L} {T} .",
     "{T} {L} දිස්ත්‍රික් සම්බන්ධීකරණ කමිටු රැස්වීම {Pg} ප්‍රධානත්වයෙන් පැවැත්විණි/V .",
     "{T} {L} மாவட்ட ஒருங்கிணைப்புக் குழுக் கூட்டம் {P} தலைமையில் நடைபெற்றது/V ."),
    ("The {O} has requested/V {N2} million/NUM dollars from the World/Z/B-ORG Bank/Z/I-ORG for irrigation projects .",
     "වාරිමාර්ග ව්‍යාපෘති සඳහා ලෝක/Z/B-ORG බැංකුවෙන්/Z/I-ORG ඩොලර් මිලියන/NUM {N2}ක්/U {O} ඉල්ලා/V ඇත/X .",
     "நீர்ப்பாசனத் திட்டங்களுக்காக உலக/Z/B-ORG வங்கியிடம்/Z/I-ORG {N2} மில்லியன்/NUM டொலர்களை {O} கோரியுள்ளது/V ."),
    ("{N2} nurses from the {V} Province completed/V their/R training at the {H} .",
     "{V} පළාතේ හෙදියන් {N2} දෙනෙකු {Hl} සිය/R පුහුණුව අවසන්/A කළහ/V .",
     "{V} மாகாணத்தைச் சேர்ந்த/V {N2} தாதியர்கள் {Hl} தமது/R பயிற்சியை நிறைவு செய்தனர்/V ."),
    ("The Cabinet approved/V a proposal by {P} to upgrade/V the {S} .",
     "{S} සංවර්ධනය කිරීම/V සඳහා {Pg} යෝජනාවට අමාත්‍ය මණ්ඩලය අනුමැතිය ලබා/V දුන්නේය/V .",
     "{Sa} தரமுயர்த்துவதற்கான/V {P} முன்வைத்த/V யோசனைக்கு அமைச்சரவை அங்கீகாரம் வழங்கியது/V ."),
    ("Election monitors reported/V {N2} complaints from the {L} district during the {E} .",
     "{E} අතරතුර/ADP {L} දිස්ත්‍රික්කයෙන් පැමිණිලි {N2}ක්/U ලැබුණු/V බව මැතිවරණ නිරීක්ෂකයින් වාර්තා කළහ/V .",
     "{Eloc} {L} மாவட்டத்திலிருந்து {N2} முறைப்பாடுகள் கிடைத்ததாகத்/V தேர்தல் கண்காணிப்பாளர்கள் தெரிவித்தனர்/V ."),
    ("The {O} has launched/V a programme to plant/V {N} mangrove saplings along/ADP the {L} coast .",
     "{L} වෙරළ තීරයේ කඩොලාන පැළ {N}ක්/U සිටුවීමේ/V වැඩසටහනක් {O} විසින් ආරම්භ කර/V ඇත/X .",
     "{L} கரையோரப் பகுதியில் {N} கண்டல் தாவரங்களை நடும்/V வேலைத்திட்டமொன்றை {O} ஆரம்பித்துள்ளது/V ."),
    ("{P} visited/V families affected/V by floods in the {L} area {T} .",
     "{T} {P} {L} ප්‍රදේශයේ ගංවතුරෙන් පීඩාවට පත්/A පවුල් බැලීමට/V ගියේය/V .",
     "{T} {P} {L} பகுதியில் வெள்ளத்தால் பாதிக்கப்பட்ட/V குடும்பங்களைப் பார்வையிட்டார்/V ."),
    ("The {O} said/V that {N2} kilometres of roads in the {L} area were damaged/V by the floods .",
     "{L} ප්‍රදේශයේ මාර්ග කිලෝමීටර් {N2}ක්/U ගංවතුරෙන් හානියට පත්/A වූ/X බව {O} පැවසීය/V .",
     "{L} பகுதியில் {N2} கிலோமீட்டர் வீதிகள் வெள்ளத்தால் சேதமடைந்துள்ளதாக/V {O} தெரிவித்துள்ளது/V ."),
    ("Students of the {S} won/V {N2} medals at the national/A sports festival .",
     "ජාතික/A ක්‍රීඩා උළෙලේදී {Sl} සිසුන් පදක්කම් {N2}ක්/U දිනා/V ගත්හ/V .",
     "தேசிய/A விளையாட்டு விழாவில் {Sg} மாணவர்கள் {N2} பதக்கங்களை வென்றனர்/V ."),
    ("The {O} will/X provide/V free/A school uniforms to {N} children in the {V} Province {DT} .",
     "{DT} {V} පළාතේ දරුවන් {N} දෙනෙකුට නොමිලේ/ADV පාසල් නිල ඇඳුම් {O} විසින් ලබා/V දෙනු/V ලැබේ/X .",
     "{DT} {V} மாகாணத்தில் {N} சிறுவர்களுக்கு இலவச/A பாடசாலைச் சீருடைகளை {O} வழங்கவுள்ளது/V ."),
    ("{P} told/V Parliament/Z/B-ORG that {N} doctors will/X be appointed/V to hospitals in the {V} Province .",
     "{V} පළාතේ රෝහල් සඳහා වෛද්‍යවරුන් {N} දෙනෙකු පත්/A කරන/V බව {P} පාර්ලිමේන්තුවට/Z/B-ORG පැවසීය/V .",
     "{V} மாகாண வைத்தியசாலைகளுக்கு {N} வைத்தியர்கள் நியமிக்கப்படுவார்கள்/V என/SCONJ {P} பாராளுமன்றத்தில்/Z/B-ORG தெரிவித்தார்/V ."),
    ("The {O} has reported/V that tea production in the {V} Province fell/V by {N2} percent .",
     "{V} පළාතේ තේ නිෂ්පාදනය සියයට {N2}කින්/U අඩු/A වී/V ඇති/X බව {O} වාර්තා කර/V ඇත/X .",
     "{V} மாகாணத்தில் தேயிலை உற்பத்தி {N2} சதவீதத்தால் வீழ்ச்சியடைந்துள்ளதாக/V {O} அறிவித்துள்ளது/V ."),
]

# Which organisations / roles make sense in a template (keyed by a fragment of its English
# side); templates not listed take any organisation and any role.
_ADMIN = ["Ministry of Health", "Ministry of Education", "Ministry of Finance", "Ministry of Highways",
          "Ministry of Agriculture", "Ministry of Fisheries", "Election Commission", "Disaster Management Centre",
          "Road Development Authority", "Police Department", "National Water Supply and Drainage Board",
          "Ceylon Electricity Board", "Department of Census and Statistics", "Irrigation Department"]
_RELIEF = ["Disaster Management Centre", "Sri Lanka Army", "Sri Lanka Navy"]
ORG_FOR = {
    "new/A offices": _ADMIN,
    "renovation of schools": ["Ministry of Education", "Ministry of Finance"],
    "candidates": ["Election Commission"],
    "landslide": _RELIEF + ["Police Department"],
    "recruit/V": ["Ministry of Education"],
    "price of a kilogram": ["Ministry of Agriculture", "Ministry of Finance", "Central Bank of Sri Lanka"],
    "dengue": ["Ministry of Health"],
    "flood victims": _RELIEF,
    "survey": ["Department of Census and Statistics", "Ministry of Health", "Central Bank of Sri Lanka",
               "Ministry of Agriculture", "University of Peradeniya", "University of Jaffna"],
    "assess/V": ["Disaster Management Centre", "Irrigation Department", "Ministry of Agriculture",
                 "Road Development Authority"],
    "exports": ["Central Bank of Sri Lanka", "Department of Census and Statistics", "Ministry of Finance"],
    "cooperate/V": ["Police Department", "Ministry of Health", "Sri Lanka Army"],
    "close/V": ["Ministry of Education"],
    "dry/A rations": _RELIEF,
    "agreement": ["Road Development Authority", "Ministry of Highways"],
    "mobile/A service": _ADMIN,
    "lagoon": ["Ministry of Fisheries", "Sri Lanka Navy", "Irrigation Department"],
    "World/Z": ["Irrigation Department", "Ministry of Agriculture", "Ministry of Finance"],
    "mangrove": ["Sri Lanka Navy", "Ministry of Fisheries"],
    "kilometres": ["Road Development Authority", "Ministry of Highways", "Disaster Management Centre"],
    "uniforms": ["Ministry of Education"],
    "tea production": ["Tea Research Institute", "Department of Census and Statistics", "Central Bank of Sri Lanka"],
}
ROLE_FOR = {
    "Parliament/Z": ["Minister/NOUN", "Deputy/ADJ Minister/NOUN", "Parliamentarian/NOUN"],
    "Cabinet": ["Minister/NOUN", "Deputy/ADJ Minister/NOUN", "Governor/NOUN"],
    "maternity": ["Minister/NOUN", "Deputy/ADJ Minister/NOUN", "Governor/NOUN", "Chief/ADJ Medical/ADJ Officer/NOUN"],
    "new/A ward": ["Minister/NOUN", "Deputy/ADJ Minister/NOUN", "Governor/NOUN", "Chief/ADJ Medical/ADJ Officer/NOUN",
             "Chief/ADJ Engineer/NOUN"],
    "highway": ["Minister/NOUN", "Deputy/ADJ Minister/NOUN", "Chief/ADJ Engineer/NOUN", "Director/NOUN"],
    "committee": ["District/NOUN Secretary/NOUN", "Governor/NOUN", "Minister/NOUN", "Parliamentarian/NOUN"],
    "{L} port {T}": ["Minister/NOUN", "Deputy/ADJ Minister/NOUN", "Governor/NOUN", "Director/NOUN", "Chief/ADJ Engineer/NOUN"],
}

_COAST = ["Colombo", "Gampaha", "Kalutara", "Galle", "Matara", "Hambantota", "Jaffna", "Kilinochchi", "Mannar",
          "Mullaitivu", "Batticaloa", "Ampara", "Trincomalee", "Puttalam"]
LOC_FOR = {
    "{L} port": ["Colombo", "Galle", "Hambantota", "Trincomalee", "Jaffna"],
    "landslide": ["Kandy", "Nuwara Eliya", "Badulla", "Ratnapura", "Kegalle", "Matale", "Kalutara",
                  "Galle", "Matara", "Monaragala"],
    "Fishermen": _COAST, "lagoon": _COAST, "coast": _COAST,
    "reservoir": ["Anuradhapura", "Polonnaruwa", "Kurunegala", "Ampara", "Monaragala", "Kandy", "Badulla",
                  "Matale", "Vavuniya", "Kilinochchi", "Hambantota", "Ratnapura"],
}


def _allowed(table, template_en, names):
    """Indices of `names` allowed for a template by `table` (all when it has no entry)."""
    for key, allowed in table.items():
        if key in template_en:
            idx = [i for i, n in enumerate(names) if n in allowed]
            assert idx, key
            return idx
    return list(range(len(names)))


UPOS_CODE = {"V": "VERB", "A": "ADJ", "X": "AUX", "U": "NUM", "R": "PRON", "T": "PART", "Z": "PROPN",
             "P": "ADP", "D": "DET", "C": "CCONJ", "S": "SCONJ", "B": "ADV"}
UD_TAGS = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
           "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}
FUNC = {
    "en": {"the": "DET", "a": "DET", "an": "DET", "this": "DET", "of": "ADP", "in": "ADP", "on": "ADP",
           "at": "ADP", "for": "ADP", "to": "PART", "with": "ADP", "from": "ADP", "by": "ADP",
           "during": "ADP", "between": "ADP", "and": "CCONJ", "that": "SCONJ", "has": "AUX",
           "have": "AUX", "was": "AUX", "were": "AUX", "been": "AUX", "be": "AUX", "after": "ADP",
           "yesterday": "NOUN", "today": "NOUN"},
    "si": {"සහ": "CCONJ", "හා": "CCONJ", "විසින්": "ADP", "සඳහා": "ADP", "සමඟ": "ADP",
           "පිළිබඳ": "ADP", "අතර": "ADP", "තුළ": "ADP", "බව": "SCONJ", "හේතුවෙන්": "ADP",
           "අනුව": "ADP", "දක්වා": "ADP", "කරන": "VERB", "කර": "VERB", "කළේය": "VERB",
           "ඇත": "AUX", "ලදී": "AUX", "වූ": "AUX", "ඊයේ": "NOUN", "අද": "NOUN"},
    "ta": {"மற்றும்": "CCONJ", "உடன்": "ADP", "என": "SCONJ", "செய்யப்பட்டனர்": "VERB",
           "நேற்று": "NOUN", "இன்று": "NOUN", "தலைமையில்": "NOUN"},
}
# Program-level English tokens whose UPOS differs between uses are tagged inline.
LANGS = ("en", "si", "ta")
PUNCT = {".", ",", "-"}


def tok(form, upos, ner="O"):
    return (form, upos, ner)


def tagged(spec, ner_type=None):
    """'w/NOUN w2/ADJ' -> tokens; ner_type makes the whole phrase one entity."""
    out = []
    for i, item in enumerate(spec.split()):
        form, _, upos = item.partition("/")
        upos = upos or "PROPN"
        ner = "O" if ner_type is None else ("B-" if i == 0 else "I-") + ner_type
        out.append(tok(form, upos, ner))
    return out


def propn_phrase(text, ner_type):
    """A proper-name phrase: PROPN tokens except connecting words."""
    out = []
    for i, w in enumerate(text.split()):
        upos = {"of": "ADP", "and": "CCONJ", "හා": "CCONJ", "மற்றும்": "CCONJ"}.get(w, "PROPN")
        out.append(tok(w, upos, ("B-" if i == 0 else "I-") + ner_type))
    return out


class Fill:
    """The slot fillers of one sentence, rendered per language."""

    def __init__(self, rng: random.Random, template_en: str = ""):
        self.p, self.p2 = rng.sample(range(len(PERSONS)), 2)
        roles = _allowed(ROLE_FOR, template_en, [r[0] for r in ROLES])
        self.r, self.r2 = rng.choice(roles), rng.randrange(len(ROLES))
        self.o = rng.choice(_allowed(ORG_FOR, template_en, [o[0] for o in ORGS]))
        self.o2 = rng.choice([i for i in range(len(ORGS)) if i != self.o])
        self.l = rng.choice(_allowed(LOC_FOR, template_en, [d[0] for d in DISTRICTS]))
        self.l2 = rng.choice([i for i in range(len(DISTRICTS)) if i != self.l])
        self.v = rng.randrange(len(PROVINCES))
        self.h = rng.randrange(len(HOSPITALS))
        self.s = rng.randrange(len(SCHOOLS))
        self.e = rng.randrange(len(ELECTIONS))
        self.f = rng.randrange(len(FESTIVALS))
        self.n = rng.choice([rng.randint(10, 99), rng.randint(100, 990), rng.randint(12, 480)])
        self.n2 = rng.randint(2, 60)
        self.n3 = rng.randint(2, 7)
        self.y = rng.randint(2026, 2031)
        self.m = rng.choice([rng.randint(5, 95) * 10, rng.randint(12, 480)])
        self.t = rng.randrange(len(DAYS) + 2)
        self.dt = (rng.randint(1, 28), rng.randrange(12))

    def inherit(self, base: "Fill", template_en: str):
        """Share a document's topic: same district, province, organisation, person, venue,
        event and day as `base`, wherever the template allows them."""
        if base.l in _allowed(LOC_FOR, template_en, [d[0] for d in DISTRICTS]):
            self.l = base.l
        if base.o in _allowed(ORG_FOR, template_en, [o[0] for o in ORGS]):
            self.o = base.o
        if base.r in _allowed(ROLE_FOR, template_en, [r[0] for r in ROLES]):
            self.p, self.r = base.p, base.r
        for attr in ("v", "h", "s", "e", "f", "t", "dt"):
            setattr(self, attr, getattr(base, attr))
        if self.p2 == self.p:
            self.p2 = (self.p + 1) % len(PERSONS)
        if self.l2 == self.l:
            self.l2 = (self.l + 1) % len(DISTRICTS)
        if self.o2 == self.o:
            self.o2 = (self.o + 1) % len(ORGS)
        return self

    def person(self, lang, which=0, gen=False):
        idx, role = (self.p, self.r) if which == 0 else (self.p2, self.r2)
        en, si, ta, female = PERSONS[idx]
        k = LANGS.index(lang)
        out = tagged(ROLES[role][k])
        out += propn_phrase((en, si, ta)[k], "PER")
        if lang == "si":
            out.append(tok(("මහත්මිය" if female else "මහතා") + ("ගේ" if gen else ""), "NOUN"))
        return out

    def org(self, lang, idx, gen=False):
        en, si, ta, ta_gen = ORGS[idx]
        text = {"en": en, "si": si + ("ේ" if gen else ""), "ta": ta_gen if gen else ta}[lang]
        return propn_phrase(text, "ORG")

    def hospital(self, lang, case="nom"):
        en, si, ta_stem, ta_nom, ta_loc, ta_gen = HOSPITALS[self.h]
        place = DISTRICTS[self.l][LANGS.index(lang)]
        if lang == "en":
            text = f"{place} {en}"
        elif lang == "si":
            text = f"{place} {si}" + ("ේ" if case != "nom" else "")
        else:
            text = f"{place} {ta_stem} " + {"nom": ta_nom, "loc": ta_loc, "gen": ta_gen}[case]
        return propn_phrase(text, "ORG")

    def school(self, lang, case="nom"):
        en, si, ta_stem, ta_nom, ta_loc, ta_gen, ta_acc = SCHOOLS[self.s]
        place = DISTRICTS[self.l][LANGS.index(lang)]
        if lang == "en":
            text = f"{place} {en}"
        elif lang == "si":
            text = f"{place} {si}" + ("ේ" if case != "nom" else "")
        else:
            text = f"{place} {ta_stem} " + {"nom": ta_nom, "loc": ta_loc, "gen": ta_gen, "acc": ta_acc}[case]
        return propn_phrase(text, "ORG")

    def render_slot(self, name, lang):
        k = LANGS.index(lang)
        if name in ("P", "Pg"):
            return self.person(lang, 0, gen=name == "Pg")
        if name == "P2":
            return self.person(lang, 1)
        if name in ("O", "Og"):
            return self.org(lang, self.o, gen=name == "Og")
        if name == "O2":
            return self.org(lang, self.o2)
        if name == "L":
            return propn_phrase(DISTRICTS[self.l][k], "LOC")
        if name == "L2":
            return propn_phrase(DISTRICTS[self.l2][k], "LOC")
        if name == "V":
            return propn_phrase(PROVINCES[self.v][k], "LOC")
        if name in ("H", "Hl", "Hg"):
            return self.hospital(lang, {"H": "nom", "Hl": "loc", "Hg": "gen"}[name])
        if name in ("S", "Sl", "Sg", "Sa"):
            return self.school(lang, {"S": "nom", "Sl": "loc", "Sg": "gen", "Sa": "acc"}[name])
        if name in ("E", "Eloc", "Efor"):
            en, si, ta_loc, ta_for = ELECTIONS[self.e]
            if lang == "ta":
                return propn_phrase(ta_for if name == "Efor" else ta_loc, "MISC")
            return propn_phrase(en if lang == "en" else si, "MISC")
        if name == "F":
            return propn_phrase(FESTIVALS[self.f][k], "MISC")
        if name == "M":
            n = str(self.m)
            return {"en": [tok(n, "NUM"), tok("million", "NUM"), tok("rupees", "NOUN")],
                    "si": [tok("රුපියල්", "NOUN"), tok("මිලියන", "NUM"), tok(n + "ක", "NUM")],
                    "ta": [tok(n, "NUM"), tok("மில்லியன்", "NUM"), tok("ரூபா", "NOUN")]}[lang]
        if name == "T":
            if self.t == len(DAYS):
                return [tok({"en": "yesterday", "si": "ඊයේ", "ta": "நேற்று"}[lang], "NOUN")]
            if self.t == len(DAYS) + 1:
                return [tok({"en": "today", "si": "අද", "ta": "இன்று"}[lang], "NOUN")]
            day = tok(DAYS[self.t][k], "PROPN")
            return [tok("on", "ADP"), day] if lang == "en" else [day]
        if name == "DT":
            d, mi = self.dt
            month = tok(MONTHS[mi][k], "PROPN")
            if lang == "en":
                return [tok("on", "ADP"), tok(str(d), "NUM"), month]
            if lang == "si":
                return [month, tok(str(d), "NUM"), tok("වැනි", "ADJ"), tok("දින", "NOUN")]
            return [month, tok(str(d), "NUM"), tok("ஆம்", "PART"), tok("திகதி", "NOUN")]
        if name in ("N", "N2", "N3", "Y"):
            return [tok(str({"N": self.n, "N2": self.n2, "N3": self.n3, "Y": self.y}[name]), "NUM")]
        raise KeyError(name)


SLOT_RE = re.compile(r"^\{(\w+)\}(.*)$")


def render(template: str, lang: str, fill: Fill):
    """Template string -> list of (form, upos, ner) tokens."""
    out = []
    for item in template.split():
        m = SLOT_RE.match(item)
        if m:
            name, rest = m.groups()
            toks = fill.render_slot(name, lang)
            if rest:  # number + glued case suffix, e.g. {N}ක්/U
                suffix = rest.split("/")[0]
                assert len(toks) == 1, item
                toks = [tok(toks[0][0] + suffix, "NUM")]
            out += toks
            continue
        parts = item.split("/")
        form = parts[0]
        if len(parts) >= 2:
            upos = UPOS_CODE.get(parts[1], parts[1])
            ner = parts[2] if len(parts) == 3 else "O"
        elif form in PUNCT:
            upos, ner = "PUNCT", "O"
        elif form.isdigit():
            upos, ner = "NUM", "O"
        else:
            upos, ner = FUNC[lang].get(form.lower(), "NOUN"), "O"
        assert upos in UD_TAGS, (item, upos)
        out.append(tok(form, upos, ner))
    if lang == "en":  # infinitival "to" is PART, prepositional "to" ADP
        out = [(f, "PART" if f == "to" and i + 1 < len(out) and out[i + 1][1] == "VERB" else
                ("ADP" if f == "to" else u), n) for i, (f, u, n) in enumerate(out)]
    if lang == "en" and out[0][1] != "PROPN":
        out[0] = (out[0][0][0].upper() + out[0][0][1:],) + out[0][1:]
    return [tuple(unicodedata.normalize("NFC", x) for x in t) for t in out]


def detok(tokens) -> str:
    """Raw line from tokens: '.' and ',' attach to the previous token (README rule)."""
    line = ""
    for form, _, _ in tokens:
        if form in (".", ",") and line:
            line += form
        else:
            line += (" " if line else "") + form
    return line


def content_key(sent) -> str:
    """English text with numbers masked: two sentences with the same key would differ only
    in their numbers, which is too little for a meaningful mining evaluation."""
    return re.sub(r"\d+", "#", detok(sent["en"]))


def make_sentence(rng, ti, base=None):
    """One trilingual gold sentence from template `ti` (topic shared with `base` if given)."""
    fill = Fill(rng, TEMPLATES[ti][0])
    if base is not None:
        fill.inherit(base, TEMPLATES[ti][0])
    sent = {lang: render(TEMPLATES[ti][k], lang, fill) for k, lang in enumerate(LANGS)}
    sent["template"] = ti
    return sent


def generate_doc(rng, k, seen):
    """k unique sentences of one news document: distinct templates, one shared topic."""
    base = Fill(rng)
    out = []
    for ti in rng.sample(range(len(TEMPLATES)), len(TEMPLATES)):
        if len(out) == k:
            break
        sent = make_sentence(rng, ti, base)
        key = content_key(sent)
        if key not in seen:
            seen.add(key)
            out.append(sent)
    return out


def generate_pool(rng, n, seen=None):
    """n trilingual gold sentences with distinct content keys, cycling through the templates
    in shuffled order."""
    pool, seen = [], (set() if seen is None else seen)
    order = []
    while len(pool) < n:
        if not order:
            order = list(range(len(TEMPLATES)))
            rng.shuffle(order)
        sent = make_sentence(rng, order.pop())
        key = content_key(sent)
        if key in seen:
            continue
        seen.add(key)
        pool.append(sent)
    return pool


# --------------------------------------------------------------------------- writers
def write_text(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    tmp.replace(path)


def conllu(sents, lang, prefix):
    blocks = []
    for i, s in enumerate(sents):
        toks = s[lang]
        lines = [f"# sent_id = {prefix}-{i + 1}", f"# text = {detok(toks)}"]
        for j, (form, upos, _) in enumerate(toks, 1):
            head, rel = (0, "root") if j == 1 else (1, "dep")
            lines.append(f"{j}\t{form}\t_\t{upos}\t_\t_\t{head}\t{rel}\t_\t_")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks) + "\n"


def bio(sents, lang):
    return "\n".join("".join(f"{f} {n}\n" for f, _, n in s[lang]) for s in sents)


def write_annotated(out: Path, sents, lang, stem, prefix):
    write_text(out / "annotations" / f"{stem}.conllu", conllu(sents, lang, prefix))
    write_text(out / "annotations" / f"{stem}.bio", bio(sents, lang))


def make_comparable(rng, seen, l1, l2, n_docs=30, n_unmatched=4, base_id=7000):
    """Comparable news documents.  Each of the `n_docs` shared docids holds 3-4 sentences
    translated on both sides (the gold pairs) plus 0-2 sentences on each side that have no
    translation, all on the document's topic, shuffled independently per side; `n_unmatched`
    documents per side have no counterpart.  Sentences are new (not in `seen`)."""
    side = {l1: [], l2: []}
    gold = []
    docids = sorted(rng.sample(range(base_id, base_id + 900), n_docs + 2 * n_unmatched))
    roles = ["shared"] * n_docs + [l1] * n_unmatched + [l2] * n_unmatched
    rng.shuffle(roles)
    for docid, role in zip(docids, roles):
        if role == "shared":
            k, e1, e2 = rng.choice([3, 3, 4, 4]), rng.randint(0, 2), rng.randint(0, 2)
            sents = generate_doc(rng, k + e1 + e2, seen)
            shared, extra1, extra2 = sents[:k], sents[k:k + e1], sents[k + e1:]
            docs = {l1: [(s, True) for s in shared] + [(s, False) for s in extra1],
                    l2: [(s, True) for s in shared] + [(s, False) for s in extra2]}
            pos = {lang: {} for lang in (l1, l2)}
            for lang in (l1, l2):
                rng.shuffle(docs[lang])
                for n, (s, is_gold) in enumerate(docs[lang]):
                    sid = f"{lang}_{docid}_{n}"
                    side[lang].append((sid, detok(s[lang])))
                    if is_gold:
                        pos[lang][id(s)] = sid
            for s in shared:
                gold.append((pos[l1][id(s)], pos[l2][id(s)]))
        else:  # a document on one side only
            for n, s in enumerate(generate_doc(rng, rng.randint(3, 6), seen)):
                side[role].append((f"{role}_{docid}_{n}", detok(s[role])))
    return side, gold


SENT_SI = {
    "Positive": ["supiri", "niyamai", "ela kiri", "patta", "maru", "godak hodai", "thank you so much",
                 "great service", "good job", "නියමයි", "ගොඩක් හොඳයි", "hari lassanai", "wow superb",
                 "ela wade", "digatama karagena yanna"],
    "Negative": ["epa wela", "kela", "horu wade", "hari naraka", "worst service", "waste of money",
                 "pissu kelinawa", "ekath naha", "මහ කරදරයක්", "එපා වෙලා", "apita hari amaru", "boru",
                 "kisima wadak naha", "hora gahanawa", "ochchara kal yanawa"],
}
TOPICS_SI = ["bus eka", "train eka", "current bill eka", "hospital eke service eka", "school eke principal",
             "data package eka", "road eka", "water bill eka", "post office eka", "new app eka",
             "passport office eka", "bank eke queue eka", "pradeshiya sabha eka", "vaccine program eka",
             "delivery service eka", "exam results"]
NEUTRAL_SI = ["{t} gana info ona", "{t} kawadada start wenne?", "{t} gana kiyanna puluwanda?",
              "{t} gana details inbox karanna", "{t} ekata apply karanne kohomada?", "{t} ge number eka denna",
              "{t} labana sumane wenas wenawada?", "{t} gana update ekak thiyanawada", "{t} open da ada?",
              "{t} ගැන විස්තර ඕනේ", "mata {t} gana question ekak thiyanawa"]


def sentiment_rows_si(rng, n):
    rows, seen = [], set()
    pos_t = ["{t} {w}", "{w} {t}", "{t} nam {w} bn", "meka {w}, {t} hodata wada", "{w}!! {t} ela",
             "ane {t} {w} neh", "{t} {w} 👍", "mama hituwe naha {t} mehema {w} kiyala",
             "{t} gana complain karanna deyak naha, {w}"]
    neg_t = ["{t} {w}", "{t} nam {w}", "{w} {t}", "{t} {w}, kauruth balanne naha", "aiyo {t} {w}",
             "{t} {w} 😡", "meka monada {t} {w}", "ape game {t} {w} machan",
             "{t} nam hodai kiyanna baha, {w}"]
    con_t = ["{t} {p} but {n}", "{p}, eth {t} {n}", "{t} {p} ha, hebai {n}", "service {p}, {t} nam {n}"]
    labels = ["Positive", "Negative", "Neutral", "Conflict"]
    weights = [0.3, 0.3, 0.28, 0.12]
    while len(rows) < n:
        label = rng.choices(labels, weights)[0]
        t = rng.choice(TOPICS_SI)
        if label == "Positive":
            text = rng.choice(pos_t).format(t=t, w=rng.choice(SENT_SI["Positive"]))
        elif label == "Negative":
            text = rng.choice(neg_t).format(t=t, w=rng.choice(SENT_SI["Negative"]))
        elif label == "Neutral":
            text = rng.choice(NEUTRAL_SI).format(t=t)
        else:
            text = rng.choice(con_t).format(t=t, p=rng.choice(SENT_SI["Positive"]), n=rng.choice(SENT_SI["Negative"]))
        if rng.random() < 0.06:
            text = text + "\n" + rng.choice(["anyway thanks", "#lka", "😂😂", "share karanna"])
        if text not in seen:
            seen.add(text)
            rows.append((unicodedata.normalize("NFC", text), label))
    return rows


TA_POS = ["semma", "vera level", "mass", "arumai", "super", "nalla irukku", "marana mass", "sema kalakkal",
          "romba pudichiruku", "thalaivar rocks", "செம்ம", "fantastic", "goosebumps varudhu"]
TA_NEG = ["mokka", "waste", "romba mosam", "kevalama irukku", "bore adikudhu", "flop", "mudiyala",
          "sema torture", "paakave pidikala", "worst", "மொக்க", "time waste"]
TA_TOPICS = ["trailer", "padam", "songs", "BGM", "first half", "second half", "climax", "hero acting",
             "comedy", "story", "teaser", "villain role", "music", "screenplay"]


def sentiment_rows_ta(rng, n):
    rows, seen = [], set()
    labels = ["Positive", "Negative", "Mixed_feelings", "unknown_state", "not-Tamil"]
    weights = [0.34, 0.2, 0.14, 0.18, 0.14]
    unknown = ["{t} eppo release?", "{t} link anuppunga", "yaaru ellam 2026 la {t} paakuringa",
               "{t} ku munnadi yaaru vandhinga", "director peru enna?", "{t} shooting enga nadandhuchu",
               "hero fans inga like podunga", "{t} today evening varuma", "music director yaaru bro"]
    not_tamil = ["Kya baat hai bhai, {t} mast hai", "Chetta {t} adipoli aanu", "{t} bagundi anna",
                 "Bhai {t} kab aayega", "Ee {t} kollam", "{t} chala bagundi ra", "Waiting from Kerala for the {t}",
                 "Nice {t}, love from Hyderabad", "{t} dekh ke maza aa gaya"]
    while len(rows) < n:
        label = rng.choices(labels, weights)[0]
        t = rng.choice(TA_TOPICS)
        if label == "Positive":
            text = rng.choice(["{t} {w}", "{w} {t} da", "{t} {w} 🔥🔥", "intha {t} {w} bro",
                               "enna {t} paa, {w}", "{t} ku oru like, {w}",
                               "{t} konjam kooda bore adikala, {w}"]).format(t=t, w=rng.choice(TA_POS))
        elif label == "Negative":
            text = rng.choice(["{t} {w}", "{t} {w} da", "{w} {t}, paakadheenga", "{t} sariyilla, {w}",
                               "ayyo {t} {w}", "indha {t} {w} 👎",
                               "{t} la onnum nalla illa, {w}"]).format(t=t, w=rng.choice(TA_NEG))
        elif label == "Mixed_feelings":
            t2 = rng.choice(TA_TOPICS)
            text = rng.choice(["{t} {p} aana {t2} {n}", "{t} {p} but {t2} konjam {n}",
                               "{t2} {n}, irundhalum {t} {p}"]).format(
                t=t, t2=t2, p=rng.choice(TA_POS), n=rng.choice(TA_NEG))
        elif label == "unknown_state":
            text = rng.choice(unknown).format(t=t)
        else:
            text = rng.choice(not_tamil).format(t=t)
        if rng.random() < 0.06:
            text = text + "\n" + rng.choice(["#trending", "❤️", "share pannunga", "1M views varanum"])
        if text not in seen:
            seen.add(text)
            rows.append((unicodedata.normalize("NFC", text), label))
    return rows


def stratified_split(rng, rows, fractions=(0.7, 0.15, 0.15)):
    by = defaultdict(list)
    for r in rows:
        by[r[1]].append(r)
    splits = ([], [], [])
    for label in sorted(by):
        items = by[label]
        rng.shuffle(items)
        n = len(items)
        a = round(n * fractions[0])
        b = a + round(n * fractions[1])
        splits[0].extend(items[:a]); splits[1].extend(items[a:b]); splits[2].extend(items[b:])
    for s in splits:
        rng.shuffle(s)
    return splits


def write_csv(path: Path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["text", "label"])
        w.writerows(rows)
    tmp.replace(path)


def write_counts(out: Path):
    """counts.tsv: file<TAB>units<TAB>count for every generated file (the README points here)."""
    rows = []
    for p in sorted(q for q in out.rglob("*") if q.is_file() and q.name != "counts.tsv"
                    and q.suffix != ".md"):
        rel = p.relative_to(out).as_posix()
        text = p.read_text(encoding="utf-8")
        if p.suffix == ".conllu":
            rows += [(rel, "sentences", text.count("# sent_id")),
                     (rel, "tokens", sum(1 for x in text.split("\n") if x[:1].isdigit()))]
        elif p.suffix == ".bio":
            rows.append((rel, "sentences", len([b for b in text.split("\n\n") if b.strip()])))
        elif p.suffix == ".csv":
            with open(p, encoding="utf-8", newline="") as f:
                labels = Counter(r["label"] for r in csv.DictReader(f))
            rows += [(rel, f"label={k}", v) for k, v in sorted(labels.items())]
            rows.append((rel, "rows", sum(labels.values())))
        else:
            rows.append((rel, "gold pairs" if p.name == "gold.tsv" else "lines", text.count("\n")))
    write_text(out / "counts.tsv", "file\tunit\tcount\n" + "".join(f"{a}\t{b}\t{c}\n" for a, b, c in rows))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "resources" / "demo")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--parallel", type=int, default=400)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    out = args.out

    n_train, n_held = 200, 60
    seen = set()
    pool = generate_pool(rng, args.parallel + n_train + n_held, seen)
    parallel = pool[: args.parallel]
    train = pool[args.parallel: args.parallel + n_train]
    held = pool[args.parallel + n_train: args.parallel + n_train + n_held]

    for lang in LANGS:
        write_text(out / "parallel" / f"demo.{lang}", "".join(detok(s[lang]) + "\n" for s in parallel))
        write_annotated(out, parallel, lang, f"parallel.{lang}", f"parallel-{lang}")
        write_annotated(out, train, lang, f"{lang}.train", f"{lang}-train")
        write_annotated(out, held, lang, f"{lang}.heldout", f"{lang}-heldout")

    # Lexicon backend, from the parallel corpus and the train split only (so that scoring it
    # on the heldout split is fair): most frequent gold UPOS per word form, and every entity
    # phrase (in each inflected form) seen there.
    lexicon_sents = parallel + train
    for k, lang in enumerate(LANGS):
        counts = defaultdict(Counter)
        for s in lexicon_sents:
            for form, upos, _ in s[lang]:
                counts[form][upos] += 1
        rows = sorted((w, c.most_common(1)[0][0]) for w, c in counts.items())
        write_text(out / "lexicon" / f"{lang}.pos.tsv", "".join(f"{w}\t{u}\n" for w, u in rows))
        gaz = {}
        for s in lexicon_sents:
            cur = []
            for form, _, ner in s[lang] + [("", "", "O")]:
                if ner.startswith("I-") and cur:
                    cur[0].append(form)
                    continue
                if cur:
                    gaz[" ".join(cur[0])] = cur[1]
                cur = [[form], ner[2:]] if ner.startswith("B-") else []
        write_text(out / "lexicon" / f"{lang}.gazetteer.tsv", "".join(f"{p}\t{t}\n" for p, t in sorted(gaz.items())))

    counts = {}
    for i, (l1, l2) in enumerate((("si", "en"), ("ta", "en"), ("si", "ta"))):
        side, gold = make_comparable(rng, seen, l1, l2, base_id=7000 + 1000 * i)
        d = out / "comparable" / f"{l1}-{l2}" / "DemoNews"
        for lang in (l1, l2):
            write_text(d / f"{lang}.tsv", "".join(f"{sid}\t{text}\n" for sid, text in side[lang]))
        write_text(d / "gold.tsv", "".join(f"{a}\t{b}\n" for a, b in gold))
        counts[f"{l1}-{l2}"] = (len(side[l1]), len(side[l2]), len(gold))

    for pair, fn in (("si-en", sentiment_rows_si), ("ta-en", sentiment_rows_ta)):
        rows = fn(rng, 210)
        for name, split in zip(("train", "dev", "test"), stratified_split(rng, rows)):
            write_csv(out / "sentiment" / pair / f"{name}.csv", split)

    # A second, smaller comparable corpus per pair (generated last, so the sets above are
    # unchanged): the calibration set of mining.calibration (margin threshold for F1), never
    # the test set.
    for i, (l1, l2) in enumerate((("si", "en"), ("ta", "en"), ("si", "ta"))):
        side, gold = make_comparable(rng, seen, l1, l2, n_docs=12, n_unmatched=2, base_id=4000 + 1000 * i)
        d = out / "comparable" / f"{l1}-{l2}" / "DemoWire"
        for lang in (l1, l2):
            write_text(d / f"{lang}.tsv", "".join(f"{sid}\t{text}\n" for sid, text in side[lang]))
        write_text(d / "gold.tsv", "".join(f"{a}\t{b}\n" for a, b in gold))
        counts[f"{l1}-{l2} calibration"] = (len(side[l1]), len(side[l2]), len(gold))

    write_counts(out)
    print(f"templates={len(TEMPLATES)} parallel={len(parallel)} train={len(train)} heldout={len(held)}")
    for pair, (a, b, g) in counts.items():
        print(f"comparable {pair}: {a} / {b} sentences, {g} gold pairs")


if __name__ == "__main__":
    main()
