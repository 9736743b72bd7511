#!/usr/bin/env python3
# Counts the pages of NEW that differ from OLD at the same index, by what a seeded round can make of them: zero pages,
# copies of pages the receiver keeps, copies of pages that moved (content the receiver held at another, changed index),
# and new content. Usage: seed-moved.py OLD.ram NEW.ram (4 KiB pages).
import hashlib,sys,collections
old,new=sys.argv[1],sys.argv[2]
P=4096
def hashes(f):
    out=[]
    with open(f,'rb') as fh:
        while True:
            b=fh.read(P*256)
            if not b: break
            for i in range(0,len(b),P): out.append(hashlib.blake2b(b[i:i+P],digest_size=16).digest())
    return out
ho=hashes(old); hn=hashes(new)
zero=hashlib.blake2b(bytes(P),digest_size=16).digest()
n=len(hn)
unchanged=[ho[i]==hn[i] for i in range(n)]
kept=set(ho[i] for i in range(n) if unchanged[i])
oldall=collections.Counter(ho)
c=collections.Counter()
for i in range(n):
    if unchanged[i]: continue
    h=hn[i]
    if h==zero: c['zero']+=1
    elif h in kept: c['copy_from_kept']+=1
    elif h in oldall: c['moved_from_changed_old_page']+=1
    else: c['new_content']+=1
print('pages',n,'differing',n-sum(unchanged)); print(dict(c))
