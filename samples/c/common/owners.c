/* owners.c -- see owners.h. A linked list: a library has one owner per Lua state. */
#include <stdlib.h>
#include "owners.h"

int owner_set_add(owner_set *set, void *utilid, void *owner)
{
    owner_entry *e = malloc(sizeof *e);
    if (e == NULL)
        return -1;
    e->utilid = utilid;
    e->owner = owner;
    pthread_mutex_lock(&set->lock);
    e->next = set->head;
    set->head = e;
    pthread_mutex_unlock(&set->lock);
    return 0;
}

void owner_set_remove(owner_set *set, void *owner)
{
    pthread_mutex_lock(&set->lock);
    for (owner_entry **p = &set->head; *p != NULL; p = &(*p)->next) {
        if ((*p)->owner == owner) {
            owner_entry *dead = *p;
            *p = dead->next;
            free(dead);
            break;
        }
    }
    pthread_mutex_unlock(&set->lock);
}

int owner_set_call(owner_set *set, void *utilid, void (*fn)(void *owner))
{
    int found = 0;
    pthread_mutex_lock(&set->lock);
    for (owner_entry *e = set->head; e != NULL; e = e->next) {
        if (e->utilid == utilid) {
            fn(e->owner);
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&set->lock);
    return found;
}

int owner_set_count(owner_set *set)
{
    int n = 0;
    pthread_mutex_lock(&set->lock);
    for (owner_entry *e = set->head; e != NULL; e = e->next)
        n++;
    pthread_mutex_unlock(&set->lock);
    return n;
}
