(()=>{try{
const C={"a":"api/v2/summary.json","b":"https://status.example.org/","d":"nl","l":{"en":{"c":"Current status:","m":["+# more","+# more"],"p":"en/","s":{"identified":"Identified","in_progress":"In progress","investigating":"Investigating","monitoring":"Monitoring","verifying":"Verifying"},"x":"Dismiss"},"nl":{"c":"Huidige status:","m":["+# meer","+# meer"],"p":"","s":{"identified":"Oorzaak gevonden","in_progress":"Bezig","investigating":"Onderzoek","monitoring":"Opvolging","verifying":"Controle"},"x":"Sluiten"}}},
L=C.l[(document.documentElement.lang||'').slice(0,2).toLowerCase()]||C.l[C.d],
H=C.b+L.p,
R={critical:4,major:3,minor:2,none:1},
K='statusgen-banner '+C.b+' ',
A=new AbortController,
T=setTimeout(()=>A.abort(),5e3),
key=i=>K+i.id+' '+i.updated_at,
seen=i=>{try{return sessionStorage.getItem(key(i))}catch(e){}},
CSS='.b{display:flex;align-items:flex-start;gap:.75em;padding:.6em 1em;border-left:.4em solid #0969da;background:#e7f0fb;color:#1b1b1b;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;text-align:start}'
+'.r4{background:#fde8e8;border-color:#cf222e}.r3{background:#fdeee3;border-color:#bc4c00}.r2{background:#fff4d6;border-color:#8a5a00}.r1{background:#f0f2f5;border-color:#59636e}'
+'p{margin:0;flex:1}a{color:inherit;text-decoration:underline}.n{font-weight:700}'
+'button{font:inherit;font-size:1.3em;line-height:1;min-width:1.8em;min-height:1.8em;margin:-.2em 0;padding:0;border:0;border-radius:.2em;background:none;color:inherit;cursor:pointer}'
+'a:focus-visible,button:focus-visible{outline:2px solid #1b1b1b;outline-offset:2px}',
link=u=>/^https?:\/\//.test(u)?u:H,
show=s=>{
const items=[...(s.incidents||[]).filter(i=>i.status!='resolved'&&i.status!='postmortem').map(i=>[R[i.impact]||1,i]),
...(s.scheduled_maintenances||[]).filter(i=>i.status=='in_progress'||i.status=='verifying').map(i=>[0,i])]
.sort((a,b)=>b[0]-a[0]);
if(items.every(([,i])=>seen(i)))return;
const [r,i]=items[0],n=items.length-1,
host=document.createElement('statusgen-banner'),
root=host.attachShadow({mode:'open'});
host.style.cssText='all:initial;display:block';
host.setAttribute('role','status');
let y;try{y=new CSSStyleSheet;y.replaceSync(CSS);root.adoptedStyleSheets=[y]}catch(e){y=0}
root.innerHTML=(y?'':'<style>'+CSS+'</style>')+'<div class="b r'+r+'"><p><a class="n"></a> <span></span> <a class="m"></a></p><button type="button"><span aria-hidden="true">&times;</span></button></div>';
const [a,t,m]=root.querySelectorAll('a,span'),b=root.querySelector('button');
a.textContent=i.name;
a.href=link(i.shortlink);
t.textContent='\u2014 '+L.c+' '+(L.s[i.status]||i.status)+'.';
if(n){m.textContent=L.m[n>1|0].replace('#',n);m.href=H}else m.remove();
b.setAttribute('aria-label',L.x);
b.onclick=()=>{try{items.forEach(([,i])=>sessionStorage.setItem(key(i),1))}catch(e){}host.remove()};
const put=()=>document.body?document.body.prepend(host):addEventListener('DOMContentLoaded',put);
put()};
fetch(H+C.a,{signal:A.signal,credentials:'omit',referrerPolicy:'no-referrer'})
.then(r=>r.ok?r.json():0).then(s=>s&&show(s)).catch(()=>0).finally(()=>clearTimeout(T))
}catch(e){}})()
